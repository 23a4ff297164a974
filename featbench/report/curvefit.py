"""Learning-curve model and label-budget planning: an inverse power law fitted per family.

score(n) = a - b * n ** (-c), with a the asymptote (<= 1), b > 0, c > 0; n = examples per class.
The examples per class needed for a target score is (b / (a - target)) ** (1 / c), with a bootstrap
interval over folds; it is flagged as an extrapolation when it lies outside the budgets that were
measured, and 'not reachable' when the target is at or above the fitted asymptote. What the fit cannot
say is not said: a target the measured curve already reaches is read off the measurements; with fewer
than MIN_BUDGETS budgets nothing is fitted; a fit whose parameters sit at a bound (an asymptote of
100%, say) is flagged and its extrapolation withheld.

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

from featbench.report.scale import UA, Scale

FAR = 100  # a required budget beyond FAR x the largest measured one is reported as too far to extrapolate
MIN_BUDGETS = 3  # three parameters need at least three budgets
LOWER, UPPER = (0.0, 0.0, 0.01), (1.0, 100.0, 3.0)  # bounds of (a, b, c)


def power_law(n, a, b, c):
    return a - b * np.power(n, -c)


def fit_power_law(x: np.ndarray, y: np.ndarray, sigma: np.ndarray | None = None) -> tuple[float, float, float]:
    """Least-squares fit of (a, b, c); raises RuntimeError when it does not converge. scipy's warnings
    (e.g. that the covariance is not estimated, which is not used here) never reach the terminal."""
    import warnings

    from scipy.optimize import curve_fit

    start = (min(float(y.max()) + 0.05, 1.0), max(float(y.max() - y.min()), 0.05) * float(x.min()) ** 0.5, 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        params, _ = curve_fit(power_law, x, y, p0=start, sigma=sigma, bounds=(list(LOWER), list(UPPER)), maxfev=20000)
    return tuple(float(p) for p in params)


def pinned(params: tuple[float, float, float], tol: float = 1e-3) -> list[str]:
    """Names of the parameters that sit at a bound (the fit says nothing reliable beyond the data then).

    >>> pinned((1.0, 0.5, 0.3))
    ['a = 1.000']
    """
    names = []
    for name, value, low, high in zip("abc", params, LOWER, UPPER):
        if abs(value - low) <= tol * max(1.0, abs(low)) or abs(value - high) <= tol * max(1.0, abs(high)):
            names.append(f"{name} = {value:.3f}")
    return names


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
    params: tuple[float, float, float] | None
    needed: float | None
    ci_low: float | None
    ci_high: float | None
    reachable_fraction: float
    extrapolated: bool
    measured_range: tuple[float, float]
    measured_x: float | None = None  # where the measured mean curve reaches the target (interpolated), if it does
    n_budgets: int = 0
    at_bound: tuple[str, ...] = ()

    def sentence(self, scale: Scale = UA, who: str | None = None) -> str:
        """The plan in words; `scale` names the score and what a budget counts (report.scale), `who` the entry
        (default: its family and classifier)."""
        who, target = who or f"{self.family} ({self.classifier})", scale.said(self.target)
        if self.measured_x is not None:
            return (f"{who}: {target} is reached at about {self.measured_x:.0f} {scale.x_unit} "
                    "(measured, interpolated between budgets; no fit needed)")
        if self.params is None:
            return f"{who}: no curve fit with {self.n_budgets} budget(s) (at least {MIN_BUDGETS} are needed)"
        a, b, c = self.params
        model = f"fit {scale.name}(n) = {a:.3f} - {b:.3f} n^-{c:.2f}"
        measured = f"measured {self.measured_range[0]:.0f} to {self.measured_range[1]:.0f}"
        if self.at_bound:
            return (f"{who}: {target} not reached within the measured budgets; the curve fit sits at a bound "
                    f"of its parameters ({', '.join(self.at_bound)}), so no extrapolation is given ({model}; {measured})")
        if self.needed is None:
            return f"{who}: {target} is not reachable; the fitted asymptote is {scale.said(a)} ({model})"
        if self.needed > FAR * self.measured_range[1]:
            return (f"{who}: {target} needs more than {FAR}x the largest measured "
                    f"budget by the fit; too far to extrapolate ({model}; {measured})")
        ci = (f"95% CI {self.ci_low:.0f} to {self.ci_high:.0f}" if self.ci_high is not None
              else f"upper end unbounded: not reachable in {1 - self.reachable_fraction:.0%} of bootstrap fits")
        flag = " EXTRAPOLATED beyond the measured budgets" if self.extrapolated else ""
        return (f"{who}: about {self.needed:.0f} {scale.x_unit} for {target} "
                f"({ci}; {model}; {measured}){flag}")


def plan_budget(x: np.ndarray, units: np.ndarray, target: float, family: str = "", classifier: str = "",
                n_boot: int = 300, seed: int = 0) -> Plan:
    """Read the target off the measured curve if it reaches it; else fit the mean curve, solve for `target`
    and bootstrap folds (rows of `units`) for an interval."""
    from featbench.report.efficiency import crossing

    span = (float(x.min()), float(x.max()))
    measured = crossing(x, units.mean(0), target)
    if measured is not None or len(x) < MIN_BUDGETS:
        return Plan(family, classifier, target, None, None, None, None, 0.0, False, span, measured, len(x))
    params = fit_power_law(x, units.mean(0))
    bound = tuple(pinned(params))
    if bound:
        return Plan(family, classifier, target, params, None, None, None, 0.0, False, span, None, len(x), bound)
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
    return Plan(family, classifier, target, params, needed, ci_low, ci_high, reachable, extrapolated, span, None,
                len(x))
