"""SGD, Adam, AdamW, RMSprop and Adagrad against their update rules written out by hand; param
groups, state round trips that resume bit for bit, argument errors, and StepLR and ExponentialLR
(tests/test_lr_scheduler.py has the other schedules)."""

import itertools

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim

GRADS = np.random.default_rng(0).standard_normal((5, 3))
START = np.array([0.5, -1.0, 2.0])
X = np.random.default_rng(1).standard_normal((4, 2, 2))


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


def adamw_by_hand(
    lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, amsgrad=False, maximize=False
):
    b1, b2 = betas
    theta, m, v, v_max = START.copy(), np.zeros(3), np.zeros(3), np.zeros(3)
    for t, g in enumerate(GRADS, start=1):
        g = -g if maximize else g
        theta = theta * (1 - lr * weight_decay)  # decoupled: the decay never enters m or v
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        v_max = np.maximum(v_max, v)
        m_hat = m / (1 - b1**t)
        v_hat = (v_max if amsgrad else v) / (1 - b2**t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
    return theta


def rmsprop_by_hand(lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
                    maximize=False):  # fmt: skip
    theta, v, mean, buf = START.copy(), np.zeros(3), np.zeros(3), np.zeros(3)
    for g in GRADS:
        g = (-g if maximize else g) + weight_decay * theta
        v = alpha * v + (1 - alpha) * g * g
        mean = alpha * mean + (1 - alpha) * g
        scale = np.sqrt(v - mean * mean if centered else v) + eps
        buf = momentum * buf + g / scale
        theta = theta - lr * (buf if momentum else g / scale)
    return theta


def adagrad_by_hand(lr, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10,
                    maximize=False):  # fmt: skip
    theta, total = START.copy(), np.full(3, initial_accumulator_value)
    for t, g in enumerate(GRADS, start=1):
        g = (-g if maximize else g) + weight_decay * theta
        total = total + g * g
        theta = theta - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(total) + eps)
    return theta


ADAMW_OPTIONS = [
    dict(betas=b, weight_decay=w, amsgrad=a, maximize=x)
    for b, w, a, x in itertools.product(
        [(0.9, 0.999), (0.5, 0.9)], [0.0, 0.01, 0.3], [False, True], [False, True]
    )
]
RMSPROP_OPTIONS = [
    dict(alpha=a, eps=e, weight_decay=w, momentum=m, centered=c, maximize=x)
    for a, e, w, m, c, x in itertools.product(
        [0.99, 0.5], [1e-8, 1e-2], [0.0, 0.1], [0.0, 0.9], [False, True], [False, True]
    )
]
ADAGRAD_OPTIONS = [
    dict(lr_decay=d, weight_decay=w, initial_accumulator_value=i, eps=e, maximize=x)
    for d, w, i, e, x in itertools.product(
        [0.0, 0.1], [0.0, 0.1], [0.0, 0.5], [1e-10, 1e-2], [False, True]
    )
]
BY_HAND = [
    *[(optim.AdamW, adamw_by_hand, options) for options in ADAMW_OPTIONS],
    *[(optim.RMSprop, rmsprop_by_hand, options) for options in RMSPROP_OPTIONS],
    *[(optim.Adagrad, adagrad_by_hand, options) for options in ADAGRAD_OPTIONS],
]


@pytest.mark.parametrize(
    "cls, by_hand, options",
    BY_HAND,
    ids=[f"{c.__name__}-" + "-".join(f"{k}={v}" for k, v in o.items()) for c, _, o in BY_HAND],
)
def test_adamw_rmsprop_and_adagrad_follow_their_update_rules_for_every_option(
    cls, by_hand, options
):
    np.testing.assert_allclose(
        run(cls, lr=0.01, **options), by_hand(0.01, **options), rtol=1e-13, atol=1e-15
    )


def test_adamw_is_adam_with_decoupled_weight_decay():
    ours = run(optim.AdamW, lr=0.01, weight_decay=0.2, amsgrad=True)
    adam = run(optim.Adam, lr=0.01, weight_decay=0.2, amsgrad=True, decoupled_weight_decay=True)
    assert np.array_equal(ours, adam)
    assert not np.allclose(ours, run(optim.Adam, lr=0.01, weight_decay=0.2, amsgrad=True))
    assert optim.AdamW([nn.Parameter([1.0])]).defaults["weight_decay"] == 0.01


def test_adamw_stays_decoupled_when_a_state_says_otherwise():
    p = nn.Parameter([1.0])
    state = optim.Adam([p]).state_dict()  # decoupled_weight_decay False
    opt = optim.AdamW([p])
    opt.load_state_dict(state)
    assert opt.param_groups[0]["decoupled_weight_decay"] is True


def test_rmsprop_with_centered_divides_by_the_standard_deviation_of_the_gradient():
    p = nn.Parameter(np.zeros(1))
    opt = optim.RMSprop([p], lr=1.0, alpha=0.5, eps=0.0, centered=True)
    for g in (1.0, 3.0):
        p.grad = mg.tensor([g])
        opt.step()
    state = opt.state[p]  # v = 0.5·(0.5·1) + 0.5·9 = 4.75,  ḡ = 0.5·0.5 + 0.5·3 = 1.75
    assert state["square_avg"].tolist() == [4.75] and state["grad_avg"].tolist() == [1.75]
    assert p.data[0] == pytest.approx(-1 / np.sqrt(0.5 - 0.25) - 3 / np.sqrt(4.75 - 1.75**2))


def test_adagrad_has_every_parameters_state_from_the_start_as_pytorch():
    a, b = nn.Parameter([1.0, 2.0]), nn.Parameter([3.0])
    opt = optim.Adagrad([{"params": [a]}, {"params": [b], "initial_accumulator_value": 0.5}])
    state = opt.state_dict()["state"]
    assert state[0]["step"] == 0.0 and state[0]["sum"].tolist() == [0.0, 0.0]
    assert state[1]["sum"].tolist() == [0.5]
    c = nn.Parameter([0.0])
    opt.add_param_group({"params": [c], "initial_accumulator_value": 2.0})
    assert opt.state[c]["sum"].tolist() == [2.0]


def test_adagrad_starts_the_state_of_a_parameter_a_loaded_state_left_out():
    p = nn.Parameter([1.0])
    opt = optim.Adagrad([p], lr=0.1)
    opt.load_state_dict({"state": {}, "param_groups": opt.state_dict()["param_groups"]})
    p.grad = mg.tensor([2.0])
    opt.step()
    assert opt.state[p]["step"] == 1.0 and opt.state[p]["sum"].tolist() == [4.0]


STATE_KEYS = [
    (optim.Adam, dict(amsgrad=True), {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}),
    (optim.AdamW, dict(amsgrad=True), {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}),
    (optim.RMSprop, dict(), {"step", "square_avg"}),
    (optim.RMSprop, dict(momentum=0.9, centered=True),
     {"step", "square_avg", "momentum_buffer", "grad_avg"}),
    (optim.Adagrad, dict(), {"step", "sum"}),
]  # fmt: skip


@pytest.mark.parametrize("cls, options, keys", STATE_KEYS, ids=lambda a: getattr(a, "__name__", ""))
def test_each_optimiser_keeps_pytorchs_state_and_resumes_bit_for_bit(cls, options, keys):
    def make():
        mg.manual_seed(0)
        model = nn.GRU(2, 3)
        return model, cls(model.parameters(), lr=0.05, **options)

    def train(model, opt, steps):
        for _ in range(steps):
            opt.zero_grad()
            out, _ = model(mg.tensor(X))
            (out * out).mean().backward()
            opt.step()

    model, opt = make()
    train(model, opt, 3)
    model_state, optim_state = model.state_dict(), opt.state_dict()
    assert set(optim_state["state"][0]) == keys and optim_state["state"][0]["step"] == 3.0
    train(model, opt, 4)
    resumed_model, resumed_opt = make()
    resumed_model.load_state_dict(model_state)
    resumed_opt.load_state_dict(optim_state)
    train(resumed_model, resumed_opt, 4)
    for (name, a), b in zip(model.state_dict().items(), resumed_model.state_dict().values()):
        assert np.array_equal(a, b), name


def test_a_step_count_from_pytorch_a_0_d_array_loads_as_a_number():
    p = nn.Parameter([1.0, 2.0])
    opt = optim.RMSprop([p])
    saved = {"step": np.array(4.0, dtype=np.float32), "square_avg": np.ones(2)}
    opt.load_state_dict({"state": {0: saved}, "param_groups": opt.state_dict()["param_groups"]})
    assert opt.state[p]["step"] == 4.0 and type(opt.state[p]["step"]) is float
    saved["step"] = np.array(-1.0)
    with pytest.raises(
        ValueError, match=r"parameter 0 \(group 0, position 0\): step must be a finite"
    ):
        opt.load_state_dict({"state": {0: saved}, "param_groups": opt.state_dict()["param_groups"]})


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
    with pytest.raises(ValueError, match="SGD: lr must be a finite number >= 0, got -1"):
        optim.SGD([p], lr=-1)
    with pytest.raises(ValueError, match="SGD: momentum must be a finite number >= 0, got -0.5"):
        optim.SGD([p], lr=0.1, momentum=-0.5)
    with pytest.raises(ValueError, match="SGD: weight_decay must be a finite number >= 0"):
        optim.SGD([p], lr=0.1, weight_decay=-0.5)
    with pytest.raises(
        ValueError,
        match="SGD: nesterov needs momentum > 0 and dampening = 0, got momentum 0.0 and dampening",
    ):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(
        ValueError, match="SGD: nesterov needs .* got momentum 0.9 and dampening 0.1"
    ):
        optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)
    with pytest.raises(ValueError, match=r"Adam: betas\[1\] must be a number in \[0, 1\), got 1.0"):
        optim.Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Adam: eps must be a finite number >= 0, got -1.0"):
        optim.Adam([p], eps=-1.0)
    with pytest.raises(ValueError, match="got an empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        optim.SGD([np.zeros(2)], lr=0.1)
    with pytest.raises(ValueError, match="cannot optimize a non-leaf tensor"):
        optim.SGD([p * 2], lr=0.1)
    with pytest.raises(ValueError, match="more than one group"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)


NOT_FINITE = [float("nan"), float("inf"), float("-inf")]
NUMBER_ARGUMENTS = [
    (optim.SGD, "lr"),
    (optim.SGD, "momentum"),
    (optim.SGD, "dampening"),
    (optim.SGD, "weight_decay"),
    (optim.Adam, "lr"),
    (optim.Adam, "eps"),
    (optim.Adam, "weight_decay"),
    (optim.AdamW, "lr"),
    (optim.AdamW, "eps"),
    (optim.AdamW, "weight_decay"),
    (optim.RMSprop, "lr"),
    (optim.RMSprop, "alpha"),
    (optim.RMSprop, "eps"),
    (optim.RMSprop, "weight_decay"),
    (optim.RMSprop, "momentum"),
    (optim.Adagrad, "lr"),
    (optim.Adagrad, "lr_decay"),
    (optim.Adagrad, "weight_decay"),
    (optim.Adagrad, "initial_accumulator_value"),
    (optim.Adagrad, "eps"),
]


@pytest.mark.parametrize("value", NOT_FINITE, ids=str)
@pytest.mark.parametrize("cls, key", NUMBER_ARGUMENTS, ids=lambda a: getattr(a, "__name__", a))
def test_nan_and_inf_hyperparameters_are_refused(cls, key, value):
    p = nn.Parameter([1.0])
    with pytest.raises(
        ValueError, match=rf"^{cls.__name__}: {key} must be a finite number.*, got {value}$"
    ):
        cls([p], **{key: value})
    assert p.data.tolist() == [1.0]


@pytest.mark.parametrize(
    "cls, key",
    [a for a in NUMBER_ARGUMENTS if a[1] != "dampening"],
    ids=lambda a: getattr(a, "__name__", a),
)
def test_negative_hyperparameters_are_refused_as_pytorch_refuses_them(cls, key):
    with pytest.raises(ValueError, match=rf"^{cls.__name__}: {key} must be a finite number >= 0"):
        cls([nn.Parameter([1.0])], **{key: -0.5})


@pytest.mark.parametrize("value", NOT_FINITE + [-0.1, 1.0], ids=str)
@pytest.mark.parametrize("i", [0, 1])
def test_each_adam_beta_must_be_a_number_in_0_1(i, value):
    betas = [0.9, 0.999]
    betas[i] = value
    with pytest.raises(
        ValueError, match=rf"^Adam: betas\[{i}\] must be a number in \[0, 1\), got {value}$"
    ):
        optim.Adam([nn.Parameter([1.0])], betas=tuple(betas))


def test_adam_with_a_nan_rate_no_longer_turns_every_parameter_to_nan():
    p = nn.Parameter([1.0, 2.0])
    with pytest.raises(ValueError, match="Adam: lr must be a finite number >= 0, got nan"):
        optim.Adam([p], lr=float("nan"))
    assert np.isfinite(p.data).all()


WRONG_KIND = [
    (optim.SGD, dict(lr="0.1"), "SGD: lr must be a finite number >= 0, got str '0.1'"),
    (optim.SGD, dict(lr=None), "SGD: lr must be a finite number >= 0, got NoneType None"),
    (optim.SGD, dict(lr=True), "SGD: lr must be a finite number >= 0, got bool True"),
    (optim.SGD, dict(momentum=[0.9]), r"SGD: momentum must be .*, got list \[0.9\]"),
    (optim.SGD, dict(dampening="0"), "SGD: dampening must be a finite number, got str '0'"),
    (optim.SGD, dict(nesterov="yes"), "SGD: nesterov must be True or False, got str 'yes'"),
    (optim.SGD, dict(maximize=1), "SGD: maximize must be True or False, got int 1"),
    (optim.Adam, dict(lr=mg.tensor(0.1)), "Adam: lr must be a finite number >= 0, got Tensor"),
    (optim.Adam, dict(eps=np.bool_(True)), "Adam: eps must be .*, got bool True"),
    (optim.Adam, dict(betas=("a", 0.9)), r"Adam: betas\[0\] must be .*, got str 'a'"),
    (optim.Adam, dict(betas=0.9), r"Adam: betas must be a pair of numbers .*, got float 0.9"),
    (optim.Adam, dict(betas="ab"), r"Adam: betas must be a pair .*, got str 'ab'"),
    (optim.Adam, dict(amsgrad=None), "Adam: amsgrad must be True or False, got NoneType None"),
    (optim.Adam, dict(decoupled_weight_decay=1), "Adam: decoupled_weight_decay must be True or"),
    (optim.AdamW, dict(maximize="no"), "AdamW: maximize must be True or False, got str 'no'"),
    (optim.AdamW, dict(betas=0.9), "AdamW: betas must be a pair of numbers"),
    (optim.RMSprop, dict(centered=1), "RMSprop: centered must be True or False, got int 1"),
    (optim.RMSprop, dict(alpha="0.9"), "RMSprop: alpha must be a finite number >= 0, got str"),
    (optim.Adagrad, dict(lr_decay=None), "Adagrad: lr_decay must be a finite number >= 0, got"),
    (optim.Adagrad, dict(maximize=0), "Adagrad: maximize must be True or False, got int 0"),
]


@pytest.mark.parametrize("cls, kwargs, message", WRONG_KIND, ids=[c[-1] for c in WRONG_KIND])
def test_a_hyperparameter_of_the_wrong_kind_is_a_type_error(cls, kwargs, message):
    with pytest.raises(TypeError, match=message):
        cls([nn.Parameter([1.0])], **kwargs)


def test_adam_betas_must_be_two_values():
    with pytest.raises(ValueError, match=r"Adam: betas must be a pair .*, got 3 values \(0.9,"):
        optim.Adam([nn.Parameter([1.0])], betas=(0.9, 0.99, 0.999))


def test_numpy_numbers_are_numbers_and_betas_may_be_a_list():
    opt = optim.Adam([nn.Parameter([1.0])], lr=np.float32(0.5), betas=[0.5, np.array(0.9)])
    group = opt.param_groups[0]
    assert group["lr"] == float(np.float32(0.5)) and type(group["lr"]) is float
    assert group["betas"] == (0.5, 0.9) and opt.defaults["betas"] == (0.5, 0.9)
    assert optim.SGD([nn.Parameter([1.0])], nesterov=np.bool_(False)).defaults["nesterov"] is False


def test_group_overrides_add_param_group_and_defaults_are_all_checked():
    p, q = nn.Parameter([1.0]), nn.Parameter([2.0])
    with pytest.raises(ValueError, match="SGD: lr must be a finite number >= 0, got nan"):
        optim.SGD([{"params": [p], "lr": float("nan")}], lr=0.1)
    with pytest.raises(ValueError, match="SGD: lr must be a finite number >= 0, got inf"):
        optim.SGD([{"params": [p], "lr": 0.1}], lr=float("inf"))  # a default no group uses yet
    with pytest.raises(TypeError, match=r"Adam: betas\[1\] must be .*, got str '0.9'"):
        optim.Adam([{"params": [p], "betas": (0.9, "0.9")}])
    opt = optim.SGD([p], lr=0.1)
    with pytest.raises(ValueError, match="SGD: momentum must be a finite number >= 0, got inf"):
        opt.add_param_group({"params": [q], "momentum": float("inf")})
    with pytest.raises(ValueError, match="SGD: nesterov needs momentum > 0 .* got momentum 0.0"):
        opt.add_param_group({"params": [q], "nesterov": True})
    assert len(opt.param_groups) == 1
    opt.add_param_group({"params": [q], "lr": 0.5})
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]


def two_group_sgd(b_shape):
    a, b = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(b_shape))
    return optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1, momentum=0.9), a, b


def test_load_state_dict_refuses_a_state_of_another_shape_naming_the_parameter():
    trained, a, b = two_group_sgd((2, 3))
    a.grad, b.grad = mg.tensor(np.ones(2)), mg.tensor(np.ones((2, 3)))
    trained.step()
    state = trained.state_dict()
    state["param_groups"][1]["lr"] = 0.7
    fresh, _, _ = two_group_sgd((3, 2))
    with pytest.raises(
        ValueError,
        match=r"^SGD.load_state_dict: parameter 1 \(group 1, position 0\): momentum_buffer has "
        r"shape \(2, 3\) in the state, the parameter has shape \(3, 2\)$",
    ):
        fresh.load_state_dict(state)
    assert fresh.state == {} and [g["lr"] for g in fresh.param_groups] == [0.1, 0.1]


@pytest.mark.parametrize("key", ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"])
def test_load_state_dict_checks_every_array_of_adams_state(key):
    a, b = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(3))
    opt = optim.Adam([a, b], amsgrad=True)
    a.grad, b.grad = mg.tensor(np.ones(2)), mg.tensor(np.ones(3))
    opt.step()
    state = opt.state_dict()
    state["state"][1][key] = np.zeros(4)
    with pytest.raises(
        ValueError,
        match=rf"parameter 1 \(group 0, position 1\): {key} has shape \(4,\) in the state, "
        r"the parameter has shape \(3,\)",
    ):
        optim.Adam([a, b], amsgrad=True).load_state_dict(state)


def test_load_state_dict_checks_the_hyperparameters_and_the_parameter_indices():
    p = nn.Parameter([1.0])
    opt = optim.Adam([p], lr=0.01)
    state = opt.state_dict()
    state["param_groups"][0]["lr"] = float("nan")
    with pytest.raises(
        ValueError, match="^Adam.load_state_dict: group 0: lr must be a finite number >= 0, got nan"
    ):
        opt.load_state_dict(state)
    assert opt.param_groups[0]["lr"] == 0.01
    state["param_groups"][0]["lr"] = np.array(0.05)  # a numpy number, as a checkpoint may hold
    state["state"] = {3: {"step": 1.0, "exp_avg": np.zeros(1), "exp_avg_sq": np.zeros(1)}}
    with pytest.raises(
        ValueError,
        match="the state has an entry for parameter 3, the optimizer has parameters 0 to 0",
    ):
        opt.load_state_dict(state)
    state["state"] = {}
    opt.load_state_dict(state)
    assert opt.param_groups[0]["lr"] == 0.05 and type(opt.param_groups[0]["lr"]) is float


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
    with pytest.raises(ValueError, match="StepLR: step_size must be a whole number > 0, got 0"):
        optim.lr_scheduler.StepLR(opt, step_size=0)


def test_scale_lr_halves_every_group_and_chains_with_a_scheduler():
    p, q = nn.Parameter([1.0]), nn.Parameter([1.0])
    opt = optim.SGD([{"params": [p]}, {"params": [q], "lr": 0.4}], lr=0.1)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    assert optim.lr_scheduler.scale_lr_(opt, 0.5) == [0.05, 0.2]
    sched.step()
    assert sched.get_last_lr() == [0.025, 0.1]
    with pytest.raises(ValueError, match="scale_lr_: factor must be a finite number > 0, got 0"):
        optim.lr_scheduler.scale_lr_(opt, 0)


NAN, INF = float("nan"), float("inf")
SCHEDULE_MISUSE = [
    ("StepLR", (2, NAN), ValueError, "StepLR: gamma must be a finite number >= 0, got nan"),
    ("StepLR", (2, -0.5), ValueError, "StepLR: gamma must be a finite number >= 0, got -0.5"),
    ("StepLR", (1.5,), ValueError, "StepLR: step_size must be a whole number > 0, got 1.5"),
    ("StepLR", (NAN,), ValueError, "StepLR: step_size must be a whole number > 0, got nan"),
    ("StepLR", ("2",), TypeError, "StepLR: step_size must be a whole number > 0, got str '2'"),
    (
        "ExponentialLR",
        (INF,),
        ValueError,
        "ExponentialLR: gamma must be a finite number >= 0, got inf",
    ),
    ("ExponentialLR", ("0.9",), TypeError, "ExponentialLR: gamma must be .*, got str '0.9'"),
    ("scale_lr_", (NAN,), ValueError, "scale_lr_: factor must be a finite number > 0, got nan"),
    ("scale_lr_", (INF,), ValueError, "scale_lr_: factor must be a finite number > 0, got inf"),
]


@pytest.mark.parametrize(
    "function, args, error, message", SCHEDULE_MISUSE, ids=[c[-1] for c in SCHEDULE_MISUSE]
)
def test_a_schedule_cannot_put_nan_inf_or_a_negative_number_into_the_rate(
    function, args, error, message
):
    opt = optim.SGD([nn.Parameter([1.0])], lr=0.1)
    with pytest.raises(error, match=f"^{message}$"):
        getattr(optim.lr_scheduler, function)(opt, *args)
    assert opt.param_groups[0]["lr"] == 0.1
