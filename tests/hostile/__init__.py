"""Hostile-input tests: one module per input surface, each driven by generated inputs (see contract.py)."""
