"""The benchmark runs at a tiny size and prints every figure; its gradient check is real."""

import numpy as np
import pytest

from benchmarks import bench


def test_the_bench_prints_a_well_formed_report(tmp_path, capsys):
    out = tmp_path / "results.md"
    report = bench.main(
        ["--sizes", "tiny", "--repeats", "2", "--lengths", "10,20", "--no-torch", "--no-jax",
         "--out", str(out)]
    )  # fmt: skip
    text = capsys.readouterr().out
    assert out.read_text() in text
    for heading in ("Machine:", "| size | implementation | forward | backward | step | ratio to numpy |",
                    "LSTM and GRU language-model steps", "Eager backward time of the small σ-RNN model",
                    "Peak memory", "| target | limit | measured | met |",
                    "PyTorch: not installed, skipped", "JAX: not installed, skipped"):  # fmt: skip
        assert heading in text
    tiny = report["sizes"]["tiny"]
    assert set(tiny) == {"minigrad eager", "minigrad compiled", "minigrad compiled, not exact",
                         "numpy"}  # fmt: skip
    assert set(report["gated"]["tiny"]) == {
        f"{model} {kind}"
        for model in ("lstm", "gru")
        for kind in ("eager", "compiled", "compiled, not exact")
    }
    assert all(v > 0 for t in tiny.values() for v in t.values())
    assert set(report["scaling"]) == {10, 20} and report["memory"]["minigrad"] > 0
    rows = [line for line in text.splitlines() if line.startswith("| tiny |")]
    assert len(rows) == 10 and all(len(r.split("|")) == 8 for r in rows)


def test_the_gradient_check_fails_loudly_when_the_engine_disagrees(monkeypatch):
    real = bench.bptt_reference.backward

    def off_by_a_little(params, cache):
        grads = real(params, cache)
        grads["rnn.weight_hh_l0"] = grads["rnn.weight_hh_l0"] * (1 + 1e-6)
        return grads

    monkeypatch.setattr(bench.bptt_reference, "backward", off_by_a_little)
    with pytest.raises(AssertionError, match="gradient of rnn.weight_hh_l0 differs"):
        bench.check_gradients("tiny")


def test_figures_are_ratios_of_the_measured_medians():
    report = {
        "sizes": {
            "medium": {
                "minigrad compiled": {"step": 2.5},
                "minigrad compiled, not exact": {"step": 3.0},
                "numpy": {"step": 2.0},
                "pytorch eager": {"step": 6.0},
                "jax jit": {"step": 4.0},
            }
        },
        "gated": {
            "small": {
                "lstm eager": {"step": 9.0},
                "lstm compiled, not exact": {"step": 3.0},
                "gru eager": {"step": 5.0},
                "gru compiled, not exact": {"step": 4.0},
            }
        },
        "scaling": {1000: 10.0, 10000: 110.0},
        "memory": {"size": "medium", "minigrad": 30, "numpy": 20},
    }
    assert bench.figures(report) == pytest.approx(
        {
            "medium_vs_numpy": 1.5,
            "medium_exact_vs_numpy": 1.25,
            "medium_vs_torch": 0.5,
            "medium_vs_jax": 0.75,
            "lstm_speedup_small": 3.0,
            "gru_speedup_small": 1.25,
            "backward_scaling": 1.1,
            "memory_vs_numpy": 1.5,
        }
    )


def test_the_gradient_check_fails_when_a_compiled_replay_differs_from_eager(monkeypatch):
    real = bench.MinigradStep.gradients

    def nudged(self):
        grads = real(self)
        if isinstance(self.loss_of, bench.mg.compiler.CompiledFunction) and self.loss_of.exact:
            grads["head.bias"] = np.nextafter(grads["head.bias"], np.inf)  # one ulp off
        return grads

    monkeypatch.setattr(bench.MinigradStep, "gradients", nudged)
    with pytest.raises(AssertionError, match="compiled gradient of head.bias differs from eager"):
        bench.check_gradients("tiny")


def test_the_gradient_check_fails_when_a_compiled_replay_not_exact_is_off_by_more_than_1e12(
    monkeypatch,
):
    real = bench.MinigradStep.gradients

    def nudged(self):
        grads = real(self)
        if isinstance(self.loss_of, bench.mg.compiler.CompiledFunction) and not self.loss_of.exact:
            grads["head.bias"] = grads["head.bias"] * (1 + 1e-9)
        return grads

    monkeypatch.setattr(bench.MinigradStep, "gradients", nudged)
    with pytest.raises(AssertionError, match=r"compiled \(not exact\) gradient of head.bias"):
        bench.check_gradients("tiny")


def test_unknown_sizes_are_refused():
    with pytest.raises(SystemExit):
        bench.main(["--sizes", "huge"])
