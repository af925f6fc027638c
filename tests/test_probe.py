"""The gradient-flow probe (``--probe``): its numbers are the engine's gradient norms and the
weights' own spectra, it changes nothing in training, it is exact across a resume, and its
misuse is one line."""

import csv
import shlex
import signal
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad import cli, nn, probe, theory
from minigrad import functional as F
from minigrad.creation import from_numpy
from minigrad.options import Config
from minigrad.runfolder import CHECKPOINT, LATEST
from minigrad.tasks import AddingConfig, Regressor, adding_batch, run_adding
from minigrad.terminal import Status
from minigrad.train import Trainer
from tests.usage import TINY, clean_exit, minigrad, snapshot, spawn, stopped

MODELS = [("rnn", "sigmoid"), ("rnn", "tanh"), ("rnn", "relu"), ("lstm", "tanh"), ("gru", "tanh")]
MODEL_IDS = ["sigmoid", "tanh", "relu", "lstm", "gru"]


def probe_rows(out):
    with open(out / "probe.csv", newline="") as f:
        return list(csv.reader(f))


def tiny(text_file, out, **kw):
    fields = dict(text=str(text_file), hidden=8, embed=4, seq_len=8, batch=2, log_every=3,
                  save_every=3, steps=9, out=str(out), sample_length=0)  # fmt: skip
    return Config(**(fields | kw))


def trainer(config, **kw):
    return Trainer(config, config.out, status=Status(quiet=True), **kw)


def adding_net(model, nonlinearity, hidden=6, seed=0):
    mg.manual_seed(seed)
    return Regressor(model, hidden, nonlinearity)


# ---- the numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize(("model", "nonlinearity"), MODELS, ids=MODEL_IDS)
def test_the_probes_norms_are_theory_gradient_norms_for_a_loss_at_the_last_step(
    model, nonlinearity
):
    net = adding_net(model, nonlinearity)
    x, y = adding_batch(12, 5, np.random.default_rng(1))
    xs, target = mg.tensor(x), mg.tensor(y)
    reading = probe.measure(net.rnn, xs, lambda hs: F.mse_loss(net.head(hs[-1]), target))
    expected = theory.gradient_norms(net.rnn, xs, loss=lambda h: F.mse_loss(net.head(h), target))
    assert len(reading.norms) == 13 and np.all(expected > 0)
    np.testing.assert_allclose(reading.norms[::-1], expected, rtol=1e-10, atol=0)


@pytest.mark.parametrize("model", ["rnn", "lstm", "gru"])
def test_the_language_models_probe_is_theory_gradient_norms_for_a_loss_at_every_step(
    text_file, tmp_path, model
):
    with trainer(tiny(text_file, tmp_path / "run", model=model)) as run:
        for _ in range(2):
            assert run.train_step()  # a carried state, and weights trained away from their start
        s = run.state
        inputs, targets, restart = run.data.train.get(s.step)
        assert not restart and s.hidden is not None
        reading = run.probe_step(inputs, targets)

    m, vocab = s.model, len(run.data.vocab)
    xs = m.embedding(from_numpy(inputs)).detach()
    h0 = tuple(t[0] for t in s.hidden) if model == "lstm" else s.hidden[0]
    expected = theory.gradient_norms(
        m.rnn, xs, h0, every_step=True,
        loss=lambda hs: F.cross_entropy(
            m.head(mg.stack(hs)).reshape(-1, vocab), from_numpy(targets).reshape(-1)
        ),
    )  # fmt: skip
    assert len(expected) == run.config.seq_len + 1 and np.all(expected > 0)
    np.testing.assert_allclose(reading.norms[::-1], expected, rtol=1e-10, atol=0)


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def numpy_preactivations(kind, nonlinearity, weights, xs, h):
    """Every step's pre-activations (T, N, G·H), by the layers' equations in plain numpy (for the
    GRU the sums x W_iᵀ + b_i + h W_hᵀ + b_h of each gate; its r and z are σ of theirs)."""
    w_ih, w_hh, b_ih, b_hh = weights
    size, c, found = w_hh.shape[1], np.zeros_like(h), []
    for x in xs:
        z = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
        found.append(z)
        if kind == "rnn":
            h = {"sigmoid": _sigmoid, "tanh": np.tanh, "relu": lambda v: np.maximum(v, 0)}[
                nonlinearity
            ](z)
        elif kind == "lstm":
            i, f, g, o = np.split(z, 4, axis=-1)
            c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
            h = _sigmoid(o) * np.tanh(c)
        else:
            gi, gh = x @ w_ih.T + b_ih, h @ w_hh.T + b_hh
            r, u = _sigmoid(gi[:, :size] + gh[:, :size]), _sigmoid(z[:, size : 2 * size])
            n = np.tanh(gi[:, 2 * size :] + r * gh[:, 2 * size :])
            h = (1 - u) * n + u * h
    return np.array(found)


@pytest.mark.parametrize(("model", "nonlinearity"), MODELS, ids=MODEL_IDS)
def test_lambda1_rho_gamma_seen_and_the_gate_are_numpys_on_the_same_weights_and_batch(
    model, nonlinearity
):
    net = adding_net(model, nonlinearity, hidden=5)
    x, y = adding_batch(9, 4, np.random.default_rng(2))
    reading = probe.measure(net.rnn, mg.tensor(x), lambda hs: F.mse_loss(net.head(hs[-1]), y))
    weights = [p.data for p in net.rnn.weights(0)]
    blocks = np.split(weights[1], weights[1].shape[0] // 5)
    assert reading.lambda1 == pytest.approx(
        max(np.linalg.svd(b, compute_uv=False)[0] for b in blocks), rel=1e-12
    )
    assert reading.spectral_radius == pytest.approx(
        max(np.abs(np.linalg.eigvals(b)).max() for b in blocks), rel=1e-12
    )
    z = numpy_preactivations(model, nonlinearity, weights, x, np.zeros((4, 5)))
    if model == "rnn":
        slope = {
            "sigmoid": _sigmoid(z) * (1 - _sigmoid(z)),
            "tanh": 1 - np.tanh(z) ** 2,
            "relu": (z > 0).astype(float),
        }[nonlinearity]
        assert reading.gamma_seen == pytest.approx(slope.max(), rel=1e-12)
        assert np.isnan(reading.gate_mean)
    else:  # the LSTM's forget gate f and the GRU's update gate z: the second block of each
        assert reading.gate_mean == pytest.approx(_sigmoid(z[..., 5:10]).mean(), rel=1e-12)
        assert np.isnan(reading.gamma_seen)


def test_weights_set_to_a_chosen_lambda1_are_read_back_for_every_gate():
    net = adding_net("gru", "tanh", hidden=4)
    theory.set_recurrent_weights_(net.rnn, 0.7)
    x, y = adding_batch(6, 3, np.random.default_rng(0))
    reading = probe.measure(net.rnn, mg.tensor(x), lambda hs: F.mse_loss(net.head(hs[-1]), y))
    assert reading.lambda1 == pytest.approx(0.7, rel=1e-12)
    assert reading.spectral_radius == pytest.approx(0.7, rel=1e-12)  # every block orthogonal × 0.7


def test_the_sigma_rnns_measured_curve_stays_under_its_bound_in_training():
    """‖∂L/∂h_{T−k}‖ ≤ ‖∂L/∂h_T‖·(γλ₁)^k for a loss at the last step, with γ = 1/4, and with
    the γ_seen of the batch too."""
    readings = []
    config = AddingConfig(length=20, model="rnn", nonlinearity="sigmoid", hidden=8, batch=16,
                          steps=60, probe=10, lr=0.05)  # fmt: skip
    run_adding(config, probed=lambda step, reading: readings.append(reading))
    assert len(readings) == 6
    k = np.arange(21)
    for r in readings:
        for gamma in (0.25, r.gamma_seen):
            assert gamma <= 0.25
            assert np.all(r.norms <= r.norms[0] * (gamma * r.lambda1) ** k * (1 + 1e-12))


def test_a_diverged_runs_weights_read_as_nan_not_an_error():
    net = adding_net("rnn", "tanh")
    with mg.no_grad():
        net.rnn.weight_hh_l0.data[0, 0] = np.nan
    x, y = adding_batch(4, 2, np.random.default_rng(0))
    with np.errstate(invalid="ignore"):
        reading = probe.measure(net.rnn, mg.tensor(x), lambda hs: F.mse_loss(net.head(hs[-1]), y))
    assert np.isnan(reading.lambda1) and np.isnan(reading.spectral_radius)


def test_the_probe_leaves_every_gradient_and_the_random_stream_alone():
    net = adding_net("lstm", "tanh")
    x, y = adding_batch(5, 3, np.random.default_rng(0))
    state = mg.get_rng_state()
    probe.measure(net.rnn, mg.tensor(x), lambda hs: F.mse_loss(net.head(hs[-1]), y))
    assert all(p.grad is None for p in net.parameters())
    assert mg.get_rng_state() == state


# ---- in a run ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("model", "dropout"), [("gru", 0.0), ("lstm", 0.3), ("rnn", 0.0)])
def test_a_run_with_the_probe_trains_as_one_without_it_bit_for_bit(
    text_file, tmp_path, model, dropout
):
    runs = {}
    for every in (None, 2):
        out = tmp_path / f"probe-{every}"
        run = trainer(tiny(text_file, out, model=model, dropout=dropout, probe=every))
        rows = run.run()
        runs[every] = (rows, mg.load(out / CHECKPOINT), mg.get_rng_state())
    (rows_a, saved_a, rng_a), (rows_b, saved_b, rng_b) = runs[None], runs[2]
    timing = ("tokens_per_s", "elapsed_s")
    assert [{k: v for k, v in r.items() if k not in timing} for r in rows_a] == [
        {k: v for k, v in r.items() if k not in timing} for r in rows_b
    ]
    for name, value in saved_a["model"].items():
        assert np.array_equal(value, saved_b["model"][name]), name
    assert rng_a == rng_b and saved_a["rng"] == saved_b["rng"]
    assert not (tmp_path / "probe-None" / "probe.csv").exists()


@pytest.mark.parametrize("compiled", [True, False])
def test_the_adding_task_trains_the_same_with_and_without_the_probe(compiled):
    config = AddingConfig(length=8, model="gru", hidden=4, batch=8, steps=6, log_every=1)
    plain, probed, readings = [], [], []
    mse = run_adding(config, lambda *row: plain.append(row), compiled)[0]
    with_probe = AddingConfig(**{**config.to_dict(), "probe": 2})
    assert run_adding(with_probe, lambda *row: probed.append(row), compiled,
                      lambda step, reading: readings.append(step))[0] == mse  # fmt: skip
    assert plain == probed and len(plain) == 6 and readings == [2, 4, 6]


def test_probe_csv_has_a_row_per_probed_step_and_distance(text_file, tmp_path):
    out = tmp_path / "run"
    trainer(tiny(text_file, out, probe=2, steps=7)).run()
    rows = probe_rows(out)
    assert rows[0] == list(probe.COLUMNS)
    keys = [(int(r[0]), int(r[1])) for r in rows[1:]]
    assert keys == [(step, k) for step in (2, 4, 6) for k in range(9)]
    for r in rows[1:]:
        assert np.isfinite(float(r[2])) and float(r[3]) >= float(r[4]) > 0  # λ₁ ≥ ρ
        assert r[5] == "nan" and 0 < float(r[6]) < 1  # a GRU: a gate, no γ_seen


def test_a_rollback_drops_the_probe_rows_after_the_checkpoint(text_file, tmp_path):
    out = tmp_path / "run"
    run = trainer(tiny(text_file, out, probe=1, steps=6))
    step_once = run.train_step

    def poisoned():
        made = step_once()
        if run.state.step == 5 and run.state.rollbacks == 0:
            run.fault, made = "a poisoned step", False
        return made

    run.train_step = poisoned
    run.run()
    assert run.state.rollbacks == 1
    steps = [int(r[0]) for r in probe_rows(out)[1:]]
    assert steps == [s for s in range(1, 7) for _ in range(9)]


# ---- the command line -------------------------------------------------------------------------


def test_probe_given_alone_probes_at_the_log_interval(text_file, tmp_path):
    out = tmp_path / "run"
    proc = minigrad("train", "--text", text_file, "--out", out, "--steps", "6", "--probe", *TINY)
    clean_exit(proc, 0, lines=0)
    assert sorted({int(r[0]) for r in probe_rows(out)[1:]}) == [3, 6]  # TINY logs every 3
    task = tmp_path / "task"
    proc = minigrad("task", "adding", "--length", "4", "--hidden", "3", "--batch", "2",
                    "--steps", "4", "--log-every", "2", "--probe", "--out", task)  # fmt: skip
    clean_exit(proc, 0, lines=0)
    assert sorted({int(r[0]) for r in probe_rows(task)[1:]}) == [2, 4]
    assert '"probe": 2' in (task / "config.json").read_text()


def test_the_task_writes_a_run_folder_of_its_own(tmp_path):
    proc = minigrad("task", "adding", "--length", "4", "--hidden", "3", "--batch", "2",
                    "--steps", "3", "--log-every", "2", "--model", "rnn", cwd=tmp_path)  # fmt: skip
    clean_exit(proc, 0, lines=0)
    (folder,) = (tmp_path / "runs").iterdir()
    assert (
        folder.name.startswith("adding-rnn-") and f"run folder: runs/{folder.name}" in proc.stdout
    )
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "metrics.csv"]
    lines = (folder / "metrics.csv").read_text().splitlines()
    assert lines[0] == "step,train_mse,test_mse" and [l.split(",")[0] for l in lines[1:]] == [
        "2",
        "3",
    ]


@pytest.mark.parametrize(
    ("command", "model"), [("train", "rnn"), ("train", "gru"), ("task", "rnn"), ("task", "lstm")]
)
def test_plot_draws_the_probe_beside_the_runs_other_pictures(
    text_file, tmp_path, capsys, command, model
):
    pytest.importorskip("matplotlib")
    out = tmp_path / "run"
    core = ["--model", model, *(["--nonlinearity", "sigmoid"] if model == "rnn" else [])]
    if command == "train":
        args = ["train", "--text", str(text_file), "--steps", "6", *TINY]
        pictures = ["grad_norm.png", "loss.png", "probe.png"]
    else:
        args = ["task", "adding", "--length", "6", "--hidden", "3", "--batch", "4", "--steps", "4"]
        pictures = ["probe.png"]
    assert cli.main([*args, *core, "--probe", "2", "--plot", "--out", str(out)]) == 0
    assert f"and {out / 'probe.png'}" in capsys.readouterr().out if command == "train" else True
    for name in pictures:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_probe_read_checks_the_file_as_a_run_does_and_warns_of_a_cut_row(tmp_path, capsys):
    (tmp_path / "probe.csv").write_text(
        ",".join(probe.COLUMNS) + "\n2,0,1.0,3.0,2.0,0.25,nan\n2,1,0.5,3.0,2.0,0.25,nan\n4,0,1."
    )
    steps, norms, scalars = probe.read(tmp_path)
    assert steps.tolist() == [2] and norms.tolist() == [[1.0, 0.5]]
    assert scalars["lambda1"].tolist() == [3.0]
    assert "the last row of" in capsys.readouterr().err


def test_the_probes_table_puts_each_row_at_its_step_and_distance():
    rows = [{"step": s, "k": k, "grad_norm": 10.0 * s + k, "lambda1": s, "spectral_radius": 1.0,
             "gamma_seen": 0.25, "gate_mean": float("nan")} for s in (4, 8) for k in range(3)]  # fmt: skip
    steps, norms, scalars = probe.table(rows)
    assert steps.tolist() == [4, 8] and norms.tolist() == [[40, 41, 42], [80, 81, 82]]
    assert scalars["lambda1"].tolist() == [4, 8] and np.isnan(scalars["gate_mean"]).all()


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--probe", "0"], "argument --probe: expected a positive integer, got '0'"),
     (["--probe", "-3"], "argument --probe: expected a positive integer, got '-3'"),
     (["--probe", "often"], "argument --probe: expected a positive integer, got 'often'"),
     (["--probe", "2.5"], "argument --probe: expected a positive integer, got '2.5'"),
     (["--probe", "2", "--layers", "2"],
      "--probe applies to --layers 1 only, and this run's --layers is 2; leave --probe out")],
)  # fmt: skip
def test_probe_misuse_in_train_is_one_line_before_anything_is_written(
    text_file, tmp_path, args, message
):
    proc = minigrad("train", "--text", text_file, "--out", tmp_path / "run", *args, *TINY)
    clean_exit(proc, 2, message)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--probe", "0"], "argument --probe: expected a positive integer, got '0'"),
     (["--probe", "-3"], "argument --probe: expected a positive integer, got '-3'"),
     (["--plot"], "--plot draws the probe's picture (probe.png); give --probe too"),
     (["--layers", "2"], "unrecognized arguments: --layers 2")],
)  # fmt: skip
def test_probe_misuse_in_the_task_is_one_line_before_anything_is_written(tmp_path, args, message):
    proc = minigrad("task", "adding", "--steps", "2", "--out", tmp_path / "run", *args)
    clean_exit(proc, 2, message)
    assert not (tmp_path / "run").exists()


def test_the_tasks_folder_refuses_another_runs_and_leaves_it_as_it_was(tmp_path):
    (tmp_path / "probe.csv").write_text("a user's own table\n")
    before = snapshot(tmp_path)
    proc = minigrad("task", "adding", "--steps", "2", "--out", tmp_path)
    clean_exit(proc, 2, f"{tmp_path} already holds a run (probe.csv); continue a run with")
    assert snapshot(tmp_path) == before
    (tmp_path / "file").write_text("")
    proc = minigrad("task", "adding", "--steps", "2", "--out", tmp_path / "file")
    clean_exit(proc, 2, f"{tmp_path / 'file'} is a file, not a folder; choose another --out")


def test_a_plot_without_matplotlib_is_refused_before_the_task_starts(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(__import__("sys").modules, "matplotlib", None)
    out = tmp_path / "run"
    assert cli.main(["task", "adding", "--probe", "--plot", "--out", str(out)]) == 2
    assert "pip install -e '.[plot]'" in capsys.readouterr().err and not out.exists()


def test_a_signal_stops_the_task_in_one_line_and_frees_its_folder(tmp_path):
    out = tmp_path / "run"
    proc = spawn("task", "adding", "--steps", "100000", "--hidden", "4", "--batch", "4",
                 "--log-every", "1", "--probe", "1", "--out", out)  # fmt: skip
    for _ in range(3):
        proc.stdout.readline()  # the baseline, the folder, the first row: the task is under way
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    proc.stderr = err
    clean_exit(proc, 130, "minigrad task: stopped by SIGINT")
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "metrics.csv", "probe.csv"]


def test_a_run_stopped_by_a_signal_and_resumed_writes_the_probe_rows_of_an_uninterrupted_one(
    text_file, tmp_path
):
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    train = ["--hidden", "8", "--embed", "4", "--seq-len", "8", "--batch", "2", "--log-every",
             "1", "--save-every", "4", "--sample-length", "0", "--probe", "3"]  # fmt: skip
    proc = minigrad("train", "--text", text_file, "--out", whole, "--steps", "14", *train)
    assert proc.returncode == 0, proc.stderr
    proc = stopped(signal.SIGINT, 7, "train", "--text", text_file, "--out", parts, "--steps",
                   "100000", *train)  # fmt: skip
    step = mg.load(parts / LATEST)["step"]
    clean_exit(proc, 130, f"SIGINT at step {step}: the run is saved in {parts}")
    assert 7 <= step < 14 and int(probe_rows(parts)[-1][0]) <= step
    with open(parts / "probe.csv", "a") as f:
        f.write(f"{step + 1},0,1,1,1,1,nan\n")  # a row of a step after the saved state
    proc = minigrad("train", "--resume", parts, "--steps", "14", "--quiet")
    clean_exit(proc, 0, lines=0)
    assert probe_rows(parts) == probe_rows(whole)
    assert len(probe_rows(whole)) == 1 + 4 * 9  # steps 3, 6, 9 and 12


def test_a_resumed_run_may_start_the_probe_and_config_json_keeps_it(run):
    proc = minigrad("train", "--resume", run, "--steps", "9", "--probe", "--quiet")
    clean_exit(proc, 0, lines=0)
    assert sorted({int(r[0]) for r in probe_rows(run)[1:]}) == [9]  # the run logs every 3
    assert '"probe": 3' in (run / "config.json").read_text()


def test_theory_and_the_probe_agree_on_the_lstms_carried_state(text_file, tmp_path):
    """A run's carried (h, c) is where the probe starts: from zeros the norms differ."""
    with trainer(tiny(text_file, tmp_path / "run", model="lstm")) as run:
        assert run.train_step()
        inputs, targets, _ = run.data.train.get(run.state.step)
        carried = run.probe_step(inputs, targets).norms
        run.state.hidden = None
        assert not np.allclose(carried, run.probe_step(inputs, targets).norms)


def test_a_cell_can_be_probed_as_well_as_a_module():
    net = adding_net("lstm", "tanh")
    x, y = adding_batch(5, 3, np.random.default_rng(0))

    def loss(hs):
        return F.mse_loss(net.head(hs[-1]), y)

    by_module = probe.measure(net.rnn, mg.tensor(x), loss)
    by_cell = probe.measure(net.rnn.cell(0), mg.tensor(x), loss)
    assert np.array_equal(by_module.norms, by_cell.norms)
    assert by_module.gate_mean == by_cell.gate_mean and isinstance(net.rnn, nn.LSTM)


# ---- the runs docs/theory.md reads ------------------------------------------------------------

DOCS = Path(__file__).resolve().parent.parent / "docs" / "probe"


def make_probe_commands():
    """The commands of ``make probe`` (the Makefile), as {run folder name: arguments}."""
    makefile = (DOCS.parent.parent / "Makefile").read_text()
    recipe = makefile.split("\nprobe:", 1)[1].split("\n\n", 1)[0]
    commands = [shlex.split(line)[3:] for line in recipe.splitlines() if "-m minigrad" in line]
    return {Path(args[args.index("--out") + 1]).name: args for args in commands}


def test_make_probe_runs_the_sigma_rnn_and_the_lstm_into_the_docs():
    commands = make_probe_commands()
    assert sorted(commands) == ["lstm", "sigmoid-rnn"]
    for name, args in commands.items():
        assert args[:4] == ["task", "adding", "--length", "50"] and "--plot" in args
        assert sorted(p.name for p in (DOCS / name).iterdir()) == [
            "config.json", "metrics.csv", "probe.csv", "probe.png"
        ]  # fmt: skip


@pytest.mark.parametrize(("name", "steps"), [("sigmoid-rnn", 100), ("lstm", 50)])
def test_the_runs_in_the_docs_are_what_make_probe_writes(tmp_path, name, steps):
    """Their first probed steps, run again here with make probe's command, give the same rows."""
    args = make_probe_commands()[name]
    args[args.index("--out") + 1] = str(tmp_path / "run")
    proc = minigrad(*args, "--steps", steps)  # the last --steps given counts
    clean_exit(proc, 0, lines=0)
    ours, theirs = probe_rows(tmp_path / "run"), probe_rows(DOCS / name)
    assert ours[0] == theirs[0] and len(ours) == 1 + steps // 50 * 51
    np.testing.assert_allclose(
        np.array(ours[1:], dtype=float), np.array(theirs[1 : len(ours)], dtype=float), rtol=1e-9
    )


def test_the_sigma_rnns_curve_in_the_docs_stays_under_its_bound():
    """‖∂L/∂h_{T−k}‖ ≤ ‖∂L/∂h_T‖·(γλ₁)^k at every probed step of the run docs/theory.md reads,
    with γ = 1/4 and with the batch's γ_seen."""
    steps, norms, scalars = probe.read(DOCS / "sigmoid-rnn")
    k, lambda1 = np.arange(51), scalars["lambda1"][:, None]
    assert norms.shape == (30, 51) and steps.tolist() == list(range(50, 1501, 50))
    for gamma in (0.25, scalars["gamma_seen"][:, None]):
        assert np.all(norms <= norms[:, :1] * (gamma * lambda1) ** k * (1 + 1e-12))
