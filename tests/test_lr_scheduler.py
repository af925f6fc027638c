"""LinearLR, CosineAnnealingLR, SequentialLR and ReduceLROnPlateau against their formulas written
out here, their state round trips and their argument errors. tests/test_torch_reference.py
compares every rate with PyTorch's."""

import math

import numpy as np
import pytest

from minigrad import nn, optim
from minigrad.optim import lr_scheduler as L


def sgd(*rates):
    """An SGD optimiser with one group per rate."""
    return optim.SGD([{"params": [nn.Parameter([0.0])], "lr": r} for r in rates], lr=rates[0])


def rates_of(scheduler, steps):
    """The first group's rate at epoch 0 and after each of ``steps`` steps."""
    rates = [scheduler.optimizer.param_groups[0]["lr"]]
    for _ in range(steps):
        scheduler.optimizer.step()
        scheduler.step()
        rates.append(scheduler.optimizer.param_groups[0]["lr"])
    return rates


def cosine(base, low, t, period):
    return low + (base - low) * (1 + math.cos(math.pi * t / period)) / 2


def test_linear_lr_goes_from_start_factor_to_end_factor_in_total_iters_steps():
    rates = rates_of(L.LinearLR(sgd(0.4), start_factor=0.25, end_factor=1.0, total_iters=4), 7)
    expected = [0.4 * (0.25 + 0.75 * min(t, 4) / 4) for t in range(8)]
    np.testing.assert_allclose(rates, expected, rtol=1e-15)


def test_cosine_annealing_follows_half_a_cosine_then_climbs_back():
    rates = rates_of(L.CosineAnnealingLR(sgd(0.1), T_max=10, eta_min=0.001), 25)
    expected = [cosine(0.1, 0.001, t, 10) for t in range(26)]
    np.testing.assert_allclose(rates, expected, rtol=1e-13)
    assert rates[10] == pytest.approx(0.001) and rates[20] == pytest.approx(0.1)


def test_a_warmup_then_cosine_starts_the_cosine_afresh_at_the_milestone():
    opt = sgd(0.1, 0.5)
    warmup = L.LinearLR(opt, start_factor=0.1, total_iters=5)
    anneal = L.CosineAnnealingLR(opt, T_max=15)
    schedule = L.SequentialLR(opt, [warmup, anneal], milestones=[5])
    rates = rates_of(schedule, 20)
    expected = [0.1 * (0.1 + 0.9 * t / 5) for t in range(5)]
    expected += [cosine(0.1, 0.0, t - 5, 15) for t in range(5, 21)]
    np.testing.assert_allclose(rates, expected, rtol=1e-13, atol=1e-18)
    assert opt.param_groups[1]["lr"] == pytest.approx(cosine(0.5, 0.0, 15, 15), abs=1e-18)
    assert schedule.get_last_lr() == [g["lr"] for g in opt.param_groups]


def test_each_schedule_chained_equals_its_closed_form():
    for make in (
        lambda o: L.LinearLR(o, 0.2, 0.9, total_iters=6),
        lambda o: L.CosineAnnealingLR(o, 7, eta_min=0.01),
        lambda o: L.StepLR(o, 3, gamma=0.5),
        lambda o: L.ExponentialLR(o, 0.8),
    ):
        schedule = make(sgd(0.3))
        for t in range(1, 12):
            schedule.optimizer.step()
            schedule.step()
            assert schedule.get_last_lr()[0] == pytest.approx(
                schedule._get_closed_form_lr()[0], rel=1e-13
            ), (type(schedule).__name__, t)


def plateau_rates(metrics, **options):
    opt = sgd(1.0)
    schedule = L.ReduceLROnPlateau(opt, **options)
    rates = []
    for metric in metrics:
        schedule.step(metric)
        rates.append(opt.param_groups[0]["lr"])
    return rates


def test_reduce_on_plateau_waits_patience_epochs_then_multiplies_by_factor():
    metrics = [5.0, 4.0, 4.0, 4.0, 4.0, 3.0, 3.0, 3.0, 3.0]
    assert plateau_rates(metrics, factor=0.5, patience=2) == [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25]


def test_reduce_on_plateau_counts_no_epoch_in_cooldown_and_stops_at_min_lr():
    metrics = [1.0] * 8
    assert plateau_rates(metrics, factor=0.5, patience=0, cooldown=2) == [
        1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125,
    ]  # fmt: skip
    assert (
        plateau_rates(metrics, factor=0.5, patience=0, min_lr=0.3) == [1, 0.5, 0.3, 0.3] + [0.3] * 4
    )


def test_reduce_on_plateau_measures_improvement_by_its_threshold():
    # 'rel': better means below best · (1 − 0.1); 0.95 is not, 0.85 is.
    assert plateau_rates([1.0, 0.95, 0.85, 0.8], threshold=0.1, patience=0) == pytest.approx(
        [1, 0.1, 0.1, 0.01], rel=1e-15
    )
    # 'max' and 'abs': better means above best + 0.5.
    rates = plateau_rates(
        [1.0, 1.4, 1.6, 2.0], mode="max", threshold=0.5, threshold_mode="abs", patience=0
    )
    assert rates == pytest.approx([1, 0.1, 0.1, 0.01], rel=1e-15)


def test_reduce_on_plateau_counts_a_nan_metric_as_no_better():
    assert plateau_rates([1.0, float("nan"), float("nan")], patience=1) == [1, 1, 0.1]


def test_reduce_on_plateau_takes_one_min_lr_per_group():
    opt = sgd(1.0, 0.1)
    schedule = L.ReduceLROnPlateau(opt, patience=0, min_lr=[0.5, 0.05])
    for metric in (1.0, 1.0, 1.0):
        schedule.step(metric)
    assert [g["lr"] for g in opt.param_groups] == [0.5, 0.05]


def test_schedule_states_round_trip_and_the_resumed_rates_are_the_same():
    def make(opt):
        warm = L.LinearLR(opt, 0.1, total_iters=3)
        return L.SequentialLR(opt, [warm, L.CosineAnnealingLR(opt, 8)], milestones=[3])

    first = make(sgd(0.2))
    rates_of(first, 5)
    state = first.state_dict()
    assert [s["last_epoch"] for s in state["_schedulers"]] == [2, 2]
    resumed_opt = sgd(0.2)
    resumed = make(resumed_opt)
    resumed.load_state_dict(state)
    resumed_opt.param_groups[0]["lr"] = first.optimizer.param_groups[0]["lr"]
    assert rates_of(resumed, 6) == rates_of(first, 6)
    plateau = L.ReduceLROnPlateau(sgd(1.0), mode="max")
    plateau.step(2.0)
    fresh = L.ReduceLROnPlateau(sgd(1.0))
    fresh.load_state_dict(plateau.state_dict())
    assert (fresh.mode, fresh.best, fresh.mode_worse, fresh.last_epoch) == (
        "max",
        2.0,
        -math.inf,
        1,
    )


NAN = float("nan")
MISUSE = [
    (lambda o: L.LinearLR(o, start_factor=0), ValueError,
     r"LinearLR: start_factor must be a number in \(0, 1\], got 0"),
    (lambda o: L.LinearLR(o, end_factor=1.5), ValueError,
     r"LinearLR: end_factor must be a number in \[0, 1\], got 1.5"),
    (lambda o: L.LinearLR(o, total_iters=0), ValueError,
     "LinearLR: total_iters must be a whole number > 0, got 0"),
    (lambda o: L.CosineAnnealingLR(o, T_max=2.5), ValueError,
     "CosineAnnealingLR: T_max must be a whole number > 0, got 2.5"),
    (lambda o: L.CosineAnnealingLR(o, T_max=10, eta_min=NAN), ValueError,
     "CosineAnnealingLR: eta_min must be a finite number >= 0, got nan"),
    (lambda o: L.CosineAnnealingLR(o, T_max="10"), TypeError,
     "CosineAnnealingLR: T_max must be a whole number > 0, got str '10'"),
    (lambda o: L.CosineAnnealingLR([o], T_max=10), TypeError,
     "CosineAnnealingLR: expected an Optimizer, got list"),
    (lambda o: L.StepLR(o, 2, last_epoch=3), ValueError,
     r"StepLR: resuming at last_epoch=3 needs 'initial_lr' in param_groups\[0\]"),
    (lambda o: L.SequentialLR(o, [], []), ValueError,
     "SequentialLR: expected at least one schedule, got none"),
    (lambda o: L.SequentialLR(o, [L.LinearLR(o), L.LinearLR(o)], []), ValueError,
     "SequentialLR: 2 schedules need 1 milestones, got 0"),
    (lambda o: L.SequentialLR(o, [L.LinearLR(o), L.LinearLR(o), L.LinearLR(o)], [5, 3]),
     ValueError, r"SequentialLR: milestones must increase, got \[5, 3\]"),
    (lambda o: L.SequentialLR(o, [L.LinearLR(o), L.LinearLR(sgd(0.1))], [5]), ValueError,
     "SequentialLR: schedule 1 is not a schedule of this optimizer"),
    (lambda o: L.SequentialLR(o, [L.LinearLR(o), L.ReduceLROnPlateau(o)], [5]), TypeError,
     "SequentialLR: schedule 1 is a ReduceLROnPlateau, whose step needs a metric"),
    (lambda o: L.ReduceLROnPlateau([o]), TypeError, "ReduceLROnPlateau: expected an Optimizer, got list"),
    (lambda o: L.ReduceLROnPlateau(o, factor=1.0), ValueError,
     r"ReduceLROnPlateau: factor must be a number in \[0, 1\), got 1.0"),
    (lambda o: L.ReduceLROnPlateau(o, mode="minimum"), ValueError,
     "ReduceLROnPlateau: mode must be 'min' or 'max', got 'minimum'"),
    (lambda o: L.ReduceLROnPlateau(o, threshold_mode="relative"), ValueError,
     "ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got 'relative'"),
    (lambda o: L.ReduceLROnPlateau(o, patience=-1), ValueError,
     "ReduceLROnPlateau: patience must be a whole number >= 0, got -1"),
    (lambda o: L.ReduceLROnPlateau(o, min_lr=[0.1, 0.2]), ValueError,
     r"ReduceLROnPlateau: expected 1 min_lrs \(one per group\), got 2"),
    (lambda o: L.ReduceLROnPlateau(o, min_lr=NAN), ValueError,
     "ReduceLROnPlateau: min_lr must be a finite number >= 0, got nan"),
]  # fmt: skip


@pytest.mark.parametrize("make, error, message", MISUSE, ids=[m for *_, m in MISUSE])
def test_a_schedule_refuses_bad_arguments_naming_them(make, error, message):
    with pytest.raises(error, match=f"^{message}"):
        make(sgd(0.1))


def test_reduce_on_plateau_with_one_min_lr_per_group_needs_one_for_a_new_group():
    opt = sgd(1.0)
    schedule = L.ReduceLROnPlateau(opt, patience=0, min_lr=[0.0])
    opt.add_param_group({"params": [nn.Parameter([0.0])]})
    schedule.step(1.0)
    with pytest.raises(ValueError, match="the optimizer has 2 groups now and 1 min_lrs"):
        schedule.step(1.0)
    single = L.ReduceLROnPlateau(sgd(1.0), patience=0, min_lr=0.5)
    single.optimizer.add_param_group({"params": [nn.Parameter([0.0])], "lr": 2.0})
    single.step(1.0)
    single.step(1.0)
    assert [g["lr"] for g in single.optimizer.param_groups] == [0.5, 0.5]


def test_a_sequence_refuses_the_state_of_a_sequence_of_another_length():
    opt = sgd(0.1)
    two = L.SequentialLR(opt, [L.LinearLR(opt), L.CosineAnnealingLR(opt, 5)], [3])
    one = L.SequentialLR(opt, [L.LinearLR(opt)], [])
    with pytest.raises(
        ValueError,
        match="^SequentialLR.load_state_dict: the state has 2 schedules, this SequentialLR 1$",
    ):
        one.load_state_dict(two.state_dict())
