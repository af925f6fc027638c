# Every target bootstraps .venv on first use, so a fresh clone needs only python3.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: test lint format demo bench rtrl-cost probe clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,plot]'
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest spec tests -n 2 --cov=minigrad --cov-branch --cov-report=term --cov-fail-under=95

# The main job: train the default language model on corpus v1, minigrad's own source frozen at
# version 0.1.0 (about 2 minutes on 2 cores), then sample from it. runs/demo is replaced on
# each run; its figures are the same run to run on the same numpy and BLAS.
demo: $(STAMP)
	rm -rf runs/demo
	$(BIN)/python -m minigrad train --out runs/demo
	$(BIN)/python -m minigrad sample --checkpoint runs/demo --prime "class " --length 300 --seed 1

# Speed against hand-written numpy (and PyTorch eager, if installed); writes benchmarks/results.md.
bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py

# The σ-RNN gradient forward in time (RTRL) against BPTT: time and peak memory by H and T.
rtrl-cost: $(STAMP)
	$(BIN)/python benchmarks/rtrl.py

# The probed runs of docs/theory.md's last section: the adding task at T = 50, the σ-RNN and then
# the LSTM, probed every 50 steps; each run folder (config.json, metrics.csv, probe.csv and
# probe.png) is written into docs/probe/. The same files on the same numpy and BLAS.
probe: $(STAMP)
	rm -rf docs/probe
	$(BIN)/python -m minigrad task adding --length 50 --model rnn --nonlinearity sigmoid --probe 50 --plot --quiet --out docs/probe/sigmoid-rnn
	$(BIN)/python -m minigrad task adding --length 50 --model lstm --probe 50 --plot --quiet --out docs/probe/lstm

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf build dist *.egg-info .pytest_cache .ruff_cache .coverage .coverage.* htmlcov
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +
