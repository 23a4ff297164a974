# Two commands do all set-up on a fresh clone:  make demo  (the whole chain on the built-in corpus)
# and  make test  (the test suite, what CI runs). Both create .venv and install the project into it first.
# make test-fast  leaves out the tests marked slow (tests/conftest.py): the inner loop, a few minutes.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check -q
# The CPU build of torch is pinned for set-up here; pyproject.toml keeps the range open for users.
TORCH_PIN ?= torch==2.13.0

.PHONY: install demo lint test test-fast docs docs-build bench clean

$(BIN)/featbench: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install "$(TORCH_PIN)"
	$(PIP) install -e ".[hf,text,dask,test,docs]"
	touch $@

install: $(BIN)/featbench

demo: install
	$(BIN)/featbench demo

# Lint and types first (pyproject.toml's [tool.ruff] and [tool.mypy] say what is checked, and why).
# FORMATTED: the files ruff format keeps; the rest keeps the house's denser hanging-indent style.
FORMATTED := tests/hostile benchmarks/fuzz_campaign.py featbench/settings.py
lint: install
	$(BIN)/ruff check featbench tests benchmarks docs/hooks
	$(BIN)/ruff format --check $(FORMATTED)
	$(BIN)/mypy

# -rs: why each skipped test was skipped (../shared data, Chromium, a GPU); --durations: the slowest tests.
# -n: pytest-xdist runs the tests in TEST_WORKERS processes (one per core of the 2-core CI machine; make test
# TEST_WORKERS=0 runs them in this one); --dist loadgroup keeps the tests of one xdist_group (tests/conftest.py
# TOGETHER) on one worker, one after another.
TEST_WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup
test: install lint
	$(PYTEST) -rs --durations=15

test-fast: install lint
	$(PYTEST) -m "not slow" -rs --durations=10

# The documentation site (docs/, mkdocs.yml), offline: served at http://127.0.0.1:8000, or built into site/.
docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/python -m mkdocs serve

docs-build: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/python -m mkdocs build --strict

bench: install
	$(BIN)/python benchmarks/opensmile_overhead.py
	$(BIN)/python benchmarks/extraction_memory.py
	$(BIN)/python benchmarks/pretrained_speed.py
	$(BIN)/python benchmarks/fbank_overhead.py
	$(BIN)/python benchmarks/mfcc_overhead.py
	$(BIN)/python benchmarks/store_size.py
	$(BIN)/python benchmarks/dask_scaling.py
	$(BIN)/python benchmarks/half_precision.py
	$(BIN)/python benchmarks/first_clip.py

clean:
	rm -rf $(VENV) featbench-demo .pytest_cache site
