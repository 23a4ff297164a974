"""Check that a checkpoint's weights fit the architecture its config describes, before building it for real.

A checkpoint's config says how big the model is (layers, widths, codebook sizes), and a hostile or damaged
one can describe billions of parameters in a few bytes. `check_fits` builds the architecture on PyTorch's
meta device (shapes only: no memory, no random numbers drawn) and compares the name and shape of every
parameter with the weights the file holds, so that a config its weights do not fill is refused in one line
before anything is allocated. The real model is built only after that, and loaded strictly as before.

>>> import torch
>>> weights = {"weight": torch.zeros(3, 2), "bias": torch.zeros(3)}
>>> check_fits(lambda: torch.nn.Linear(2, 3), weights, "x.pt", "its args describe")
>>> check_fits(lambda: torch.nn.Linear(2, 10 ** 9), weights, "x.pt", "its args describe")
Traceback (most recent call last):
featbench.errors.FeatbenchError: x.pt: weights do not fit the architecture its args describe (weight: (1000000000, 2) in the architecture, (3, 2) in the file; bias: (1000000000,) in the architecture, (3,) in the file)
"""
from __future__ import annotations

from collections.abc import Callable

from featbench.errors import FeatbenchError


def check_fits(build: Callable, weights: dict, source: str, describes: str) -> None:
    """Refuse (FeatbenchError naming `source`) weights whose names or shapes differ from those of the module
    `build()` makes; `build` runs on the meta device. `describes`: 'its args describe', 'its config describes'."""
    import torch

    with torch.random.fork_rng(devices=[]), torch.device("meta"):
        expected = {name: tuple(t.shape) for name, t in build().state_dict().items()}
    held = {name: tuple(t.shape) for name, t in weights.items()}
    problems = [f"{name}: {expected[name]} in the architecture, {held[name]} in the file"
                for name in expected if name in held and expected[name] != held[name]]
    problems += [f"missing {name}" for name in expected if name not in held]
    problems += [f"unexpected {name}" for name in held if name not in expected]
    if problems:
        more = f"; and {len(problems) - 2} more" if len(problems) > 2 else ""
        raise FeatbenchError(f"{source}: weights do not fit the architecture {describes} ({'; '.join(problems[:2])}{more})")
