"""Learning-curve model and label-budget planning: an inverse power law fitted per family.

score(n) = a - b * n ** (-c), with a the asymptote (<= 1), b > 0, c > 0; n = examples per class.
The examples per class needed for a target score is (b / (a - target)) ** (1 / c), with a bootstrap
interval over (fold, seed) units; it is flagged as an extrapolation when it lies outside the budgets
that were measured, and 'not reachable' when the target is at or above the fitted asymptote.

>>> import numpy as np
>>> x = np.array([8.0, 16, 32, 64, 128, 256])
>>> fit = fit_power_law(x, 0.8 - 0.9 * x ** -0.5)
>>> [round(v, 3) for v in fit]
[0.8, 0.9, 0.5]
>>> round(required_examples(fit, 0.7), 1)
81.0
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FAR = 100  # a required budget beyond FAR x the largest measured one is reported as too far to extrapolate


def power_law(n, a, b, c):
    return a - b * np.power(n, -c)


def fit_power_law(x: np.ndarray, y: np.ndarray, sigma: np.ndarray | None = None) -> tuple[float, float, float]:
    """Least-squares fit of (a, b, c); raises RuntimeError when it does not converge."""
    from scipy.optimize import curve_fit

    start = (min(float(y.max()) + 0.05, 1.0), max(float(y.max() - y.min()), 0.05) * float(x.min()) ** 0.5, 0.5)
    params, _ = curve_fit(power_law, x, y, p0=start, sigma=sigma, bounds=([0.0, 0.0, 0.01], [1.0, 100.0, 3.0]),
                          maxfev=20000)
    return tuple(float(p) for p in params)


def required_examples(params: tuple[float, float, float], target: float) -> float | None:
    a, b, c = params
    if target >= a:
        return None
    if b == 0:
        return 1.0
    return float((b / (a - target)) ** (1.0 / c))


@dataclass
class Plan:
    family: str
    classifier: str
    target: float
    params: tuple[float, float, float]
    needed: float | None
    ci_low: float | None
    ci_high: float | None
    reachable_fraction: float
    extrapolated: bool
    measured_range: tuple[float, float]

    def sentence(self) -> str:
        a, b, c = self.params
        model = f"fit UA(n) = {a:.3f} - {b:.3f} n^-{c:.2f}"
        if self.needed is None:
            return f"{self.family} ({self.classifier}): {self.target:.1%} is not reachable; the fitted asymptote is {a:.1%} ({model})"
        measured = f"measured {self.measured_range[0]:.0f} to {self.measured_range[1]:.0f}"
        if self.needed > FAR * self.measured_range[1]:
            return (f"{self.family} ({self.classifier}): {self.target:.1%} needs more than {FAR}x the largest measured "
                    f"budget by the fit; too far to extrapolate ({model}; {measured})")
        ci = (f"95% CI {self.ci_low:.0f} to {self.ci_high:.0f}" if self.ci_high is not None
              else f"upper end unbounded: not reachable in {1 - self.reachable_fraction:.0%} of bootstrap fits")
        flag = " EXTRAPOLATED beyond the measured budgets" if self.extrapolated else ""
        return (f"{self.family} ({self.classifier}): about {self.needed:.0f} examples per class for {self.target:.1%} "
                f"({ci}; {model}; {measured}){flag}")


def plan_budget(x: np.ndarray, units: np.ndarray, target: float, family: str = "", classifier: str = "",
                n_boot: int = 300, seed: int = 0) -> Plan:
    """Fit the mean curve, solve for `target`, and bootstrap (fold, seed) units for an interval."""
    params = fit_power_law(x, units.mean(0))
    needed = required_examples(params, target)
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(n_boot):
        pick = rng.integers(0, units.shape[0], units.shape[0])
        try:
            draws.append(required_examples(fit_power_law(x, units[pick].mean(0)), target))
        except RuntimeError:
            draws.append(None)
    values = np.array([d if d is not None else np.inf for d in draws])
    reachable = float(np.mean(np.isfinite(values)))
    ci_low = float(np.percentile(values, 2.5)) if reachable > 0.025 else None
    ci_high = float(np.percentile(values, 97.5)) if reachable >= 0.975 else None
    extrapolated = needed is not None and not (x.min() <= needed <= x.max())
    return Plan(family, classifier, target, params, needed, ci_low, ci_high, reachable, extrapolated,
                (float(x.min()), float(x.max())))
