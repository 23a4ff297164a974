"""A deliberately broken family, for featbench's tests: `featbench families --check broken-energy` must fail,
one line per broken promise."""
from __future__ import annotations

import numpy as np

from featbench_plugin_demo import EnergyZcr


class BrokenEnergy(EnergyZcr):
    name = "broken-energy"
    description = "deliberately broken: 3 columns declared, 2 returned, float64, noisy, one config hash, swallows Ctrl-C"

    @property
    def columns(self) -> list[str]:
        return ["log_energy", "zcr", "pitch"]  # but extract returns two columns

    def config_hash(self) -> str:
        return "0" * 12  # the same whatever the options

    def extract(self, signal: np.ndarray, sample_rate: int) -> np.ndarray:
        try:
            rows = super().extract(signal, sample_rate).astype(np.float64)  # float64, not float32
            return rows + np.random.default_rng().normal(0, 1e-3, rows.shape)  # different every time
        except:  # noqa: E722 -- swallows Ctrl-C too
            return np.zeros((1, 2))
