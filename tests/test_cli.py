"""The command line, end to end at toy sizes, and its one-line errors."""

import os
import subprocess
import sys

import numpy as np
import pytest

from minigrad import cli, vanishing

SMALL = ["vanishing", "--steps", "6", "--hidden", "3", "--lambdas", "0.5,2", "--seed", "1"]


def test_vanishing_prints_a_table_per_model_with_the_bound_beside_sigma_and_tanh(capsys):
    assert cli.main(SMALL) == 0
    out = capsys.readouterr().out
    for title in vanishing.TITLES.values():
        assert title in out
    sigma_block = out.split("tanh-RNN")[0]
    assert (
        "bound (γλ₁)^d" in sigma_block and "γλ₁ = 0.5" in sigma_block and "γλ₁ = 2" in sigma_block
    )
    first_row = next(line for line in sigma_block.splitlines() if line.strip().startswith("0 "))
    assert first_row.split()[1:] == ["1.00e+00"] * 4  # d = 0: the identity, and the bound 1
    assert "bound" not in out.split("LSTM")[1].splitlines()[0]


def test_vanishing_measurements_stay_under_the_bound():
    results = vanishing.measure(["sigmoid", "tanh"], [0.5, 2.0, 8.0], 12, 4, seed=2)
    for by_rate in results.values():
        for rate, norms in by_rate.items():
            assert all(norms[d] <= rate**d * (1 + 1e-10) for d in range(13))


def test_a_bound_past_float64_prints_as_inf_not_an_error():
    assert vanishing.bound(8.0, 400) == np.inf and vanishing.bound(0.5, 3) == 0.125
    results = {"tanh": {8.0: np.ones(401)}}
    assert vanishing.table(results, 400).splitlines()[-2].endswith("1.00e+00 inf")


def test_table_rows_cover_short_and_long_distances():
    assert vanishing.distances(3) == [0, 1, 2, 3]
    assert vanishing.distances(50) == [0, 1, 2, 3, 4, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50]


def test_vanishing_plot_writes_a_png(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path = tmp_path / "curves.png"
    assert cli.main([*SMALL, "--models", "sigmoid,gru", "--plot", str(path)]) == 0
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"wrote {path}" in capsys.readouterr().out


def test_without_matplotlib_plot_says_how_to_install_it_and_still_prints_the_table(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    assert cli.main([*SMALL, "--models", "tanh", "--plot", str(tmp_path / "x.png")]) == 1
    captured = capsys.readouterr()
    assert "tanh-RNN" in captured.out
    assert "pip install -e '.[plot]'" in captured.err and not (tmp_path / "x.png").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["vanishing", "--steps", "-3"], "argument --steps: expected a positive integer, got '-3'"),
        (
            ["vanishing", "--hidden", "many"],
            "argument --hidden: expected a positive integer, got 'many'",
        ),
        (
            ["vanishing", "--models", "sigmoid,transformer"],
            "unknown model 'transformer'; choose from sigmoid, tanh, lstm, gru",
        ),
        (
            ["vanishing", "--lambdas", "1,-2"],
            "argument --lambdas: expected comma-separated positive numbers, got '-2'",
        ),
        (["vanishing", "--lambdas", "a"], "expected comma-separated positive numbers, got 'a'"),
        (["vanishing", "--plot", "/no/such/folder/x.png"], "cannot write '/no/such/folder/x.png'"),
        (["vanishing", "--bogus"], "unrecognized arguments: --bogus"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_bad_options_get_one_line_and_exit_status_2(args, message, capsys):
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and err.startswith("minigrad")


def test_no_command_prints_help_and_exits_2(capsys):
    assert cli.main([]) == 2
    assert "vanishing" in capsys.readouterr().out


def test_python_dash_m_minigrad_runs_without_a_traceback():
    bad = subprocess.run(
        [sys.executable, "-m", "minigrad", "vanishing", "--steps", "0"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and bad.stderr.count("\n") == 1
    good = subprocess.run(
        [sys.executable, "-m", "minigrad", *SMALL, "--models", "gru"],
        capture_output=True,
        text=True,
    )
    assert good.returncode == 0 and "GRU" in good.stdout


def test_the_minigrad_console_script_is_installed_and_runs():
    script = os.path.join(os.path.dirname(sys.executable), "minigrad")
    result = subprocess.run([script, "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    for command in ("train", "sample", "task", "vanishing"):
        assert command in result.stdout
