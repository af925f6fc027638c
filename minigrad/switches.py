"""The process-wide switches, read by the graph and set by the tools around it.

* ``grad_enabled``: whether ops record the graph (``minigrad.no_grad`` turns it off);
* ``anomaly``: in anomaly mode, the ``detect_anomaly`` whose checks every op and every
  backward rule run (``minigrad.grad_mode``);
* ``trace``: while ``minigrad.compile`` traces a function, the trace that every op call
  is reported to (``minigrad.compile``);
* ``forward``: inside ``autograd.forward_ad.dual_level()``, the level whose tensors carry
  tangents, which every op call carries on (forward mode).

PyTorch keeps grad mode per thread; these are per process.
"""

from types import SimpleNamespace

mode = SimpleNamespace(grad_enabled=True, anomaly=None, trace=None, forward=None)
