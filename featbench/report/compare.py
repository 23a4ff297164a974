"""`featbench compare`: results rows -> learning curves, summary tables, efficiency ratios, budget plans.

Example: ``compare(["results.csv"], "report/", baseline="egemaps-func", target_ua=0.6)`` writes
summary.csv/.md, efficiency.csv, planning.csv, learning_curves*.png/.svg, confusion_matrices.png/.svg,
protocol.json and report.md into report/.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from featbench.errors import FeatbenchError
from featbench.results import budget_order
from featbench.report.aggregate import aggregate, best_classifiers, protocol_of, read_one_protocol, unit_matrix
from featbench.report.curvefit import plan_budget
from featbench.report.efficiency import efficiency_ratio
from featbench.report.html import write_report_html
from featbench.report.plots import caption, confusion_matrices, learning_curves, learning_points
from featbench.report.tables import summary_markdown, summary_table


def compare(results: list[str | Path], out: str | Path, baseline: str | None = None, target_ua: float | None = None,
            reference_budget: str | None = None, n_boot: int = 2000) -> dict:
    """Write every report artefact for one protocol's results into `out`; return their paths and texts."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows, notes = read_one_protocol(results)
    protocol = protocol_of(rows)
    agg = aggregate(rows)
    best = best_classifiers(agg)
    baseline = baseline or protocol["families"][0]
    if baseline not in best:
        raise FeatbenchError(f"baseline '{baseline}' is not among the families in the results ({', '.join(best)})")
    cap = caption(protocol)

    x_b, units_b, keys_b = unit_matrix(rows, baseline, best[baseline])
    budgets_b = budget_order(rows[rows.family == baseline])
    if reference_budget is not None and reference_budget not in budgets_b:
        raise FeatbenchError(f"reference budget '{reference_budget}' is not measured for {baseline} (budgets: {', '.join(budgets_b)})")
    ref_index = budgets_b.index(reference_budget) if reference_budget else len(budgets_b) - 1
    efficiency, sentences = [], []
    for family, clf in best.items():
        if family == baseline:
            continue
        x_a, units_a, keys_a = unit_matrix(rows, family, clf)
        common = [k for k in keys_a if k in set(keys_b)]
        if not common:
            continue
        ia = [keys_a.index(k) for k in common]
        ib = [keys_b.index(k) for k in common]
        eff = efficiency_ratio(x_a, units_a[ia], x_b, units_b[ib], f"{family} ({clf})", f"{baseline} ({best[baseline]})",
                               reference=ref_index, n_boot=n_boot)
        efficiency.append(eff.__dict__ | {"sentence": eff.sentence()})
        sentences.append(eff.sentence())

    plans = []
    target = target_ua if target_ua is not None else float(units_b[:, ref_index].mean())
    for family, clf in best.items():
        x, units, _ = unit_matrix(rows, family, clf)
        try:
            plan = plan_budget(x, units, target, family, clf)
        except RuntimeError as err:
            plans.append({"family": family, "classifier": clf, "target": target, "sentence": f"{family}: curve fit failed ({err})"})
            continue
        plans.append({**plan.__dict__, "params": json.dumps(plan.params), "at_bound": "; ".join(plan.at_bound),
                      "sentence": plan.sentence()})

    summary_table(agg, best).to_csv(out / "summary.csv", index=False)
    markdown = summary_markdown(agg, best, cap)
    (out / "summary.md").write_text(markdown)
    pd.DataFrame(efficiency).to_csv(out / "efficiency.csv", index=False)
    pd.DataFrame(plans).to_csv(out / "planning.csv", index=False)
    agg.to_csv(out / "curves.csv", index=False)
    figures = (learning_curves(agg, best, protocol, out) + learning_points(rows, agg, best, protocol, out)
               + confusion_matrices(rows, best, protocol, out))
    (out / "protocol.json").write_text(json.dumps({**protocol, "caption": cap, "baseline": f"{baseline} ({best[baseline]})",
                                                   "reference_budget": budgets_b[ref_index], "target_ua": target,
                                                   "results": [str(r) for r in results]}, indent=2) + "\n")
    target_note = "the baseline's score at its reference budget" if target_ua is None else "given"
    report = "\n".join([
        f"# featbench report: {protocol['corpus']}", "", f"Protocol: {cap}.", "",
        "## Summary", "", markdown, "## Data efficiency", "",
        f"Baseline {baseline} ({best[baseline]}) at budget {budgets_b[ref_index]}; each family with its best classifier; "
        "95% bootstrap interval over folds (test speaker groups, seeds averaged within a fold), paired. "
        "'>=' marks a ratio reached at the smallest budget tried (a lower bound), '<' one never reached.", "",
        *[f"- {s}" for s in sentences], "", "## Label-budget planning", "",
        f"Target UA {target:.1%} ({target_note}); read off the measured curve where it reaches the target, else an "
        "inverse power law fitted per family (at least 3 budgets; no extrapolation from a fit pinned at a bound), "
        "bootstrap over folds.", "",
        *[f"- {p['sentence']}" for p in plans], "",
        "## Figures", "", "![learning curves](learning_curves.png)", "",
        "![learning curves with every fold x seed point](learning_points.png)", "",
        "![learning curves by classifier](learning_curves_by_classifier.png)", "", "![confusion matrices](confusion_matrices.png)", "",
        "A browsable, self-contained version of this report: report.html.", "",
    ])
    (out / "report.md").write_text(report)
    sidecar = json.loads((out / "protocol.json").read_text())
    reached = [e for e in efficiency if e["ratio"] is not None]
    headline = max(reached, key=lambda e: e["ratio"])["sentence"] if reached else (sentences[0] if sentences else "")
    write_report_html(out, str(protocol["corpus"]), cap, [headline] if headline else [], sentences, [p["sentence"] for p in plans], agg, best, sidecar, {
        "Learning curves, best classifier per family, with every fold x seed result": out / "learning_points.svg",
        "Learning curves by classifier": out / "learning_curves_by_classifier.svg",
        "Confusion matrices at the largest budget": out / "confusion_matrices.svg",
    })
    return {"out": out, "notes": notes, "figures": figures, "efficiency": sentences, "plans": [p["sentence"] for p in plans], "report": report}
