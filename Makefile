# Two commands do all set-up on a fresh clone:  make demo  (the whole chain on the built-in corpus)
# and  make test  (the test suite). Both create .venv and install the project into it first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check -q
# The CPU build of torch is pinned for set-up here; pyproject.toml keeps the range open for users.
TORCH_PIN ?= torch==2.13.0

.PHONY: install demo test docs docs-build bench clean

$(BIN)/featbench: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install "$(TORCH_PIN)"
	$(PIP) install -e ".[hf,text,dask,test,docs]"
	touch $@

install: $(BIN)/featbench

demo: install
	$(BIN)/featbench demo

test: install
	$(BIN)/python -m pytest

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
