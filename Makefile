# Two commands for a new user: `make demo` and `make test`. Both create (or reuse) .venv.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test bench bench-torch clean figures notebooks

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m minigrad demo

test: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) benchmarks/run.py

# PyTorch for side-by-side ratios: the CPU build that lies on this machine's disk.
bench-torch: $(STAMP)
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis

# The tutorials' pictures (tutorials/figures/), drawn by the chapters' own code run as plain scripts;
# a test checks that the committed ones are current. Commit what this changes.
figures: $(STAMP)
	$(PY) tutorials/tools/chapters.py figures

# One notebook per chapter (jupytext) in tutorials/notebooks/, for a course's Jupyter hub; the test suite
# runs each in a fresh kernel (nbclient).
notebooks: $(STAMP)
	$(PY) tutorials/tools/chapters.py notebooks
