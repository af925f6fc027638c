"""In-place initialisers, drawing from minigrad's one seeded generator (``manual_seed``).

They change ``tensor.data`` in place under ``no_grad`` and return the tensor,
as ``torch.nn.init`` does.
"""

from ..grad_mode import no_grad
from ..random import default_generator


def uniform_(tensor, a=0.0, b=1.0):
    """Fill with samples of U(a, b)."""
    with no_grad():
        return tensor.copy_(default_generator.uniform(a, b, tensor.shape))


def normal_(tensor, mean=0.0, std=1.0):
    """Fill with samples of N(mean, std²)."""
    with no_grad():
        return tensor.copy_(default_generator.normal(mean, std, tensor.shape))


def constant_(tensor, value):
    with no_grad():
        return tensor.fill_(value)


def zeros_(tensor):
    return constant_(tensor, 0.0)


def ones_(tensor):
    return constant_(tensor, 1.0)


def forget_gate_bias_(lstm, value=1.0):
    """Set an LSTM's forget-gate bias to ``value``, in every layer and direction.

    The forget gate is the second quarter of each bias (gates i, f, g, o).
    bias_ih gets ``value`` there and bias_hh gets 0, so the bias the gate sees
    is ``value``. A forget bias of 1 keeps the gate mostly open at the start of
    training, so the cell state, and its gradient, carry across many steps
    (Gers, Schmidhuber and Cummins, 2000; Jozefowicz, Zaremba and Sutskever,
    2015). PyTorch has no such argument; this is minigrad's documented option.
    """
    with no_grad():
        for name, bias in lstm.named_parameters():
            short = name.rpartition(".")[2]
            if short.startswith(("bias_ih", "bias_hh")):
                quarter = bias.shape[0] // 4
                bias[quarter : 2 * quarter] = value if short.startswith("bias_ih") else 0.0
    return lstm
