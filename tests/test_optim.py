"""SGD and Adam against their update rules written out by hand; param groups, state round trips
that resume bit for bit, argument errors, and the learning-rate schedulers."""

import itertools

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim

GRADS = np.random.default_rng(0).standard_normal((5, 3))
START = np.array([0.5, -1.0, 2.0])


def run(opt_cls, steps=5, **kwargs):
    p = nn.Parameter(START.copy())
    opt = opt_cls([p], **kwargs)
    for g in GRADS[:steps]:
        p.grad = mg.tensor(g)
        opt.step()
    return p.data


def sgd_by_hand(lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
    theta, buf = START.copy(), None
    for g in GRADS:
        g = -g if maximize else g.copy()
        g = g + weight_decay * theta
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        theta = theta - lr * g
    return theta


def adam_by_hand(lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False):
    b1, b2 = betas
    theta, m, v, v_max = START.copy(), np.zeros(3), np.zeros(3), np.zeros(3)
    for t, g in enumerate(GRADS, start=1):
        g = -g if maximize else g
        g = g + weight_decay * theta
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        v_max = np.maximum(v_max, v)
        m_hat = m / (1 - b1**t)
        v_hat = (v_max if amsgrad else v) / (1 - b2**t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
    return theta


SGD_OPTIONS = [
    dict(momentum=m, dampening=d, weight_decay=w, nesterov=n, maximize=x)
    for m, d, w, n, x in itertools.product(
        [0.0, 0.9], [0.0, 0.2], [0.0, 0.05], [False, True], [False, True]
    )
    if not (n and (m == 0 or d != 0))
]


@pytest.mark.parametrize(
    "options", SGD_OPTIONS, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items())
)
def test_sgd_follows_its_update_rule_for_every_option(options):
    np.testing.assert_allclose(
        run(optim.SGD, lr=0.1, **options), sgd_by_hand(0.1, **options), rtol=1e-14, atol=1e-15
    )


ADAM_OPTIONS = [
    dict(betas=b, eps=e, weight_decay=w, amsgrad=a, maximize=x)
    for b, e, w, a, x in itertools.product(
        [(0.9, 0.999), (0.5, 0.9)], [1e-8, 1e-3], [0.0, 0.1], [False, True], [False, True]
    )
]


@pytest.mark.parametrize(
    "options", ADAM_OPTIONS, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items())
)
def test_adam_follows_its_update_rule_with_bias_correction_for_every_option(options):
    np.testing.assert_allclose(
        run(optim.Adam, lr=0.01, **options), adam_by_hand(0.01, **options), rtol=1e-13, atol=1e-15
    )


def test_sgd_first_momentum_step_uses_the_gradient_without_dampening():
    p = nn.Parameter(np.zeros(1))
    opt = optim.SGD([p], lr=1.0, momentum=0.9, dampening=0.5)
    p.grad = mg.tensor([2.0])
    opt.step()
    assert p.data.tolist() == [-2.0]
    assert opt.state[p]["momentum_buffer"].tolist() == [2.0]


def test_parameters_without_a_gradient_are_skipped():
    a, b = nn.Parameter([1.0]), nn.Parameter([1.0])
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = mg.tensor([1.0])
    opt.step()
    assert b.data.tolist() == [1.0] and b not in opt.state and a.data[0] < 1.0


def test_param_groups_carry_their_own_hyperparameters():
    a, b = nn.Parameter([1.0]), nn.Parameter([1.0])
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1)
    a.grad, b.grad = mg.tensor([1.0]), mg.tensor([1.0])
    opt.step()
    assert a.data.tolist() == [0.9] and b.data.tolist() == [0.5]
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]


def test_zero_grad_sets_none_or_zeros():
    p = nn.Parameter([1.0])
    opt = optim.SGD([p], lr=0.1)
    p.grad = mg.tensor([3.0])
    opt.zero_grad(set_to_none=False)
    assert p.grad.tolist() == [0.0]
    opt.zero_grad()
    assert p.grad is None


def test_step_with_a_closure_returns_its_loss():
    p = nn.Parameter([2.0])
    opt = optim.SGD([p], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 4.0
    assert np.isclose(p.data[0], 1.6)


def test_optimiser_state_round_trips_and_training_resumes_bit_for_bit():
    x = mg.randn(4, 2, 2)

    def make():
        mg.manual_seed(0)
        model = nn.GRU(2, 3)
        return model, optim.Adam(model.parameters(), lr=0.05, amsgrad=True)

    def train(model, opt, steps):
        for _ in range(steps):
            opt.zero_grad()
            out, _ = model(x)
            (out * out).mean().backward()
            opt.step()

    model, opt = make()
    train(model, opt, 3)
    model_state, optim_state = model.state_dict(), opt.state_dict()
    train(model, opt, 4)
    resumed_model, resumed_opt = make()
    resumed_model.load_state_dict(model_state)
    resumed_opt.load_state_dict(optim_state)
    train(resumed_model, resumed_opt, 4)
    for (name, a), b in zip(model.state_dict().items(), resumed_model.state_dict().values()):
        assert np.array_equal(a, b), name


def test_state_dict_uses_pytorchs_layout_and_copies():
    p = nn.Parameter([1.0, 2.0])
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = mg.tensor([1.0, 1.0])
    opt.step()
    state = opt.state_dict()
    assert state["param_groups"][0]["params"] == [0] and state["param_groups"][0]["momentum"] == 0.9
    state["state"][0]["momentum_buffer"][0] = 99.0
    assert opt.state[p]["momentum_buffer"][0] == 1.0


def test_loading_a_state_for_a_different_optimiser_layout_is_refused():
    a, b = nn.Parameter([1.0]), nn.Parameter([1.0])
    state = optim.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(
        ValueError, match="group 0 has 2 parameters in the state and 1 in the optimizer"
    ):
        optim.SGD([a], lr=0.1).load_state_dict(state)
    with pytest.raises(ValueError, match="the state has 1 parameter groups, the optimizer 2"):
        optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(state)


def test_bad_arguments_are_refused():
    p = nn.Parameter([1.0])
    with pytest.raises(ValueError, match="SGD: lr must be non-negative"):
        optim.SGD([p], lr=-1)
    with pytest.raises(ValueError, match="SGD: momentum must be non-negative"):
        optim.SGD([p], lr=0.1, momentum=-0.5)
    with pytest.raises(ValueError, match="SGD: weight_decay must be non-negative"):
        optim.SGD([p], lr=0.1, weight_decay=-0.5)
    with pytest.raises(ValueError, match="SGD: nesterov needs momentum > 0 and dampening = 0"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="SGD: nesterov needs"):
        optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)
    with pytest.raises(ValueError, match=r"Adam: betas\[1\] must be in \[0, 1\)"):
        optim.Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Adam: eps must be non-negative"):
        optim.Adam([p], eps=-1.0)
    with pytest.raises(ValueError, match="got an empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        optim.SGD([np.zeros(2)], lr=0.1)
    with pytest.raises(ValueError, match="cannot optimize a non-leaf tensor"):
        optim.SGD([p * 2], lr=0.1)
    with pytest.raises(ValueError, match="more than one group"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)


def test_repr_lists_the_groups():
    text = repr(optim.SGD([nn.Parameter([1.0])], lr=0.1))
    assert text.startswith("SGD (\nParameter Group 0\n") and "lr: 0.1" in text


def test_step_lr_and_exponential_lr_follow_pytorch():
    p = nn.Parameter([1.0])
    opt = optim.SGD([p], lr=1.0)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    rates = []
    for _ in range(5):
        opt.step()
        sched.step()
        rates.append(sched.get_last_lr()[0])
    assert rates == [1.0, 0.5, 0.5, 0.25, 0.25]
    opt2 = optim.SGD([p], lr=1.0)
    exp = optim.lr_scheduler.ExponentialLR(opt2, gamma=0.1)
    exp.step()
    exp.step()
    assert np.isclose(opt2.param_groups[0]["lr"], 0.01)
    state = exp.state_dict()
    assert "optimizer" not in state and state["last_epoch"] == 2
    fresh = optim.lr_scheduler.ExponentialLR(optim.SGD([p], lr=1.0), gamma=0.1)
    fresh.load_state_dict(state)
    assert fresh.last_epoch == 2
    with pytest.raises(ValueError, match="StepLR: step_size must be positive"):
        optim.lr_scheduler.StepLR(opt, step_size=0)


def test_scale_lr_halves_every_group_and_chains_with_a_scheduler():
    p, q = nn.Parameter([1.0]), nn.Parameter([1.0])
    opt = optim.SGD([{"params": [p]}, {"params": [q], "lr": 0.4}], lr=0.1)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    assert optim.lr_scheduler.scale_lr_(opt, 0.5) == [0.05, 0.2]
    sched.step()
    assert sched.get_last_lr() == [0.025, 0.1]
    with pytest.raises(ValueError, match="scale_lr_: factor must be positive"):
        optim.lr_scheduler.scale_lr_(opt, 0)
