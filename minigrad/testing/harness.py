"""The checks every op-table row must pass, each an assertion that can fail.

For a row and one of its cases, ``Problem`` draws a point in the op's domain
and builds the exact SymPy output and Jacobian there. Then:

* ``check_forward``: the engine's value equals SymPy's (1e-12 relative);
* ``check_vjp``: backward along a random cotangent v equals vᵀJ from SymPy's
  exact derivatives (1e-10 relative, float64);
* ``check_jvp``: forward mode (``autograd.forward_ad``) along random tangents v equals
  J v from SymPy's exact derivatives (1e-10 relative, float64);
* ``check_gradcheck``: central finite differences agree (``gradcheck``);
* ``check_float32``: float32 in gives float32 out and float32 gradients;
* ``check_second_order``: differentiating the backward pass (create_graph)
  gives SymPy's exact second derivatives, as a Hessian-vector product.

"Relative" is measured against the largest magnitude of the reference, so a
check neither passes vacuously nor fails on an entry that is exactly zero.

An op with several outputs (``unbind``, ``split``) is checked as one output:
its outputs flattened and joined, on the engine's side (with ``reshape`` and
``cat``) and on SymPy's, so each check covers every output at once.

``check_row(row)`` runs them all on every case of a row. This module needs SymPy.
"""

import zlib
from functools import cached_property

import numpy as np
import sympy as sp

import minigrad as mg
from minigrad.autograd import gradcheck

from .comparison import assert_close
from .symbolic import as_object_array, evaluate, jacobian, symbol_array


def _registered(name):
    """The op registered under ``name``; a row of an op not yet made is an error saying so."""
    if name not in mg.ops.registry():
        raise KeyError(
            f"no op named {name!r} is registered: make an instance of its Op class first "
            "(creating it registers it), or give the row a function="
        )
    return mg.ops.registry()[name]


class Problem:
    """One row and case, made concrete: a point, its symbols, and the exact reference."""

    def __init__(self, row, case, seed=0):
        self.row = row
        self.case = case
        self.function = row.function or _registered(row.op)
        rng = np.random.default_rng([zlib.crc32(row.op.encode()), seed])
        self.values, self.symbols = [], []
        for k, shape in enumerate(case.shapes):
            sampler = row.sampler(k)
            value = sampler.sample(rng, shape)
            self.values.append(np.asarray(value))
            self.symbols.append(symbol_array(f"a{k}_", shape) if sampler.differentiable else None)
        self.diff = [k for k, s in enumerate(self.symbols) if s is not None]
        self.rng = rng

    # -- the engine side --

    def tensors(self, dtype=np.float64):
        return [
            mg.tensor(v, dtype=dtype if k in self.diff else v.dtype, requires_grad=k in self.diff)
            for k, v in enumerate(self.values)
        ]

    def run(self, tensors):
        if self.row.function is not None:
            return self.function(*tensors, **self.case.params)
        out = self.function.apply(tuple(tensors), self.case.params)
        return mg.cat([o.reshape(-1) for o in out]) if isinstance(out, tuple) else out

    # -- the SymPy side --

    @cached_property
    def flat_symbols(self):
        return [s for k in self.diff for s in self.symbols[k].flat]

    @cached_property
    def flat_values(self):
        return [v for k in self.diff for v in self.values[k].flat]

    @cached_property
    def reference(self):
        args = [s if s is not None else v for s, v in zip(self.symbols, self.values)]
        out = self.row.reference(*args, **self.case.params)
        if isinstance(out, tuple):  # several outputs: flattened and joined, as ``run`` does
            return np.concatenate([as_object_array(o).reshape(-1) for o in out])
        return as_object_array(out)

    @cached_property
    def jacobians(self):
        """Exact ∂out/∂input_k for each differentiable input, as object arrays."""
        return [jacobian(self.reference, self.symbols[k]) for k in self.diff]

    def at_point(self, exprs):
        return evaluate(exprs, self.flat_symbols, self.flat_values)


def check_forward(p):
    out = p.run(p.tensors())
    expected = p.at_point(p.reference)
    if "dtype" in p.case.params:
        expected = expected.astype(p.case.params["dtype"])
    assert_close(out.data, expected, 1e-12, f"{p.row.op} forward")


def check_vjp(p):
    tensors = p.tensors()
    out = p.run(tensors)
    v = p.rng.standard_normal(out.shape).astype(out.dtype)
    grads = mg.grad(out, [tensors[k] for k in p.diff], mg.tensor(v), allow_unused=True)
    for k, g, J in zip(p.diff, grads, p.jacobians):
        expected = np.tensordot(v.astype(np.float64), p.at_point(J), axes=out.ndim)
        actual = np.zeros(expected.shape) if g is None else g.data
        assert_close(actual, expected, 1e-10, f"{p.row.op} vjp for input {k}")


def check_jvp(p):
    from minigrad.autograd import forward_ad

    tensors = p.tensors()
    vs = [p.rng.standard_normal(tensors[k].shape) for k in p.diff]
    with forward_ad.dual_level():
        duals = list(tensors)
        for k, v in zip(p.diff, vs):
            duals[k] = forward_ad.make_dual(tensors[k], mg.tensor(v))
        out = p.run(duals)
        tangent = forward_ad.unpack_dual(out).tangent
    expected = sum(np.tensordot(p.at_point(J), v, axes=v.ndim) for J, v in zip(p.jacobians, vs))
    actual = np.zeros(out.shape) if tangent is None else tangent.data
    expected = np.broadcast_to(expected, out.shape).astype(
        out.dtype
    )  # a tangent has its output's dtype
    assert_close(actual, expected, 1e-10, f"{p.row.op} jvp")


def check_gradcheck(p):
    tensors = p.tensors()
    assert gradcheck(lambda *xs: p.run(xs), tensors)


def check_float32(p):
    tensors = p.tensors(np.float32)
    out = p.run(tensors)
    expected = p.run(p.tensors(np.float64))
    expected_dtype = p.case.params.get("dtype", np.dtype(np.float32))
    assert out.dtype == expected_dtype, f"{p.row.op}: float32 in gave {out.dtype} out"
    assert_close(out.data, expected.data.astype(np.float64), 1e-5, f"{p.row.op} float32 forward")
    grads = mg.grad(out.sum(), [tensors[k] for k in p.diff], allow_unused=True)
    for k, g in zip(p.diff, grads):
        if g is not None:
            assert g.dtype == np.float32, f"{p.row.op}: gradient for input {k} is {g.dtype}"


def check_second_order(p):
    """Hessian-vector product: ∂/∂x_l Σ_k u_k (vᵀ ∂out/∂x_k), engine (create_graph) vs SymPy."""
    tensors = p.tensors()
    inputs = [tensors[k] for k in p.diff]
    out = p.run(tensors)
    v = p.rng.standard_normal(out.shape)
    us = [p.rng.standard_normal(t.shape) for t in inputs]
    seconds = _engine_second_derivatives(out, inputs, v, us)
    M = _sympy_first_derivatives_form(p, v, us)
    scale = max(np.max(np.abs(p.at_point(J)), initial=0.0) for J in p.jacobians) or 1.0
    for k, t, g in zip(p.diff, inputs, seconds):
        expected = p.at_point(jacobian(M, p.symbols[k]))
        actual = np.zeros(t.shape) if g is None else g.data
        assert_close(actual, expected, 1e-10, f"{p.row.op} second derivative, input {k}", scale)


def _engine_second_derivatives(out, inputs, v, us):
    """∂M/∂x_l for M = Σ_k u_k · (vᵀ ∂out/∂x_k), by the engine differentiating its own
    first derivatives (None where M does not depend on x_l)."""
    firsts = mg.grad(out, inputs, mg.tensor(v), create_graph=True, allow_unused=True)
    m = sum((g * mg.tensor(u)).sum() for g, u in zip(firsts, us) if g is not None)
    if isinstance(m, mg.Tensor) and m.requires_grad:
        return mg.grad(m, inputs, allow_unused=True)
    return [None] * len(inputs)


def _sympy_first_derivatives_form(p, v, us):
    """SymPy's M = Σ_k u_k · (vᵀ J_k), from the row's exact Jacobians J_k."""
    V = sp.Matrix(v.reshape(-1))
    M = sp.Integer(0)
    for J, u in zip(p.jacobians, us):
        Jm = sp.Matrix(J.reshape(v.size, -1))
        M += (V.T * Jm * sp.Matrix(u.reshape(-1)))[0, 0]
    return M


CHECKS = {
    "forward": check_forward,
    "vjp": check_vjp,
    "jvp": check_jvp,
    "gradcheck": check_gradcheck,
    "float32": check_float32,
    "second_order": check_second_order,
}


def applicable_checks(row):
    """The names of the checks that apply to ``row``: all of ``CHECKS`` but its not_applicable."""
    return [name for name in CHECKS if name not in row.not_applicable]


def check_row(row):
    """Check the op of ``row`` against its SymPy reference: every applicable check, on every
    case. An AssertionError names the op, the check and the case that failed."""
    for case in row.cases:
        problem = Problem(row, case)
        for name in applicable_checks(row):
            try:
                CHECKS[name](problem)
            except AssertionError as error:
                raise type(error)(f"{error} (in {case})") from error
