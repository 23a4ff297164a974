"""Choices made on validation speakers: the layers and classifiers each entry chose per budget (counts over
folds x seeds), and the layer weights `@weighted` entries learned (report.choices)."""
from __future__ import annotations

from featbench.layers import layer_name
from featbench.report.model import Bullets, Cell, Heading, Paragraph, Section, Table
from featbench.report.sections.base import Inputs, num
from featbench.report.weighting import BELOW, difference_text, weighting_gaps


def _weights(a, weights) -> list:
    n = len([c for c in weights.columns if c.startswith("w")])
    rows = [[Cell(a.name_of(r["family"], r["classifier"])), Cell(str(r["budget"])),
             *[Cell(f"{r[f'w{k}']:.2f}", num=True, bar=float(r[f"w{k}"])) for k in range(n)]]
            for _, r in weights.iterrows()]
    return [Heading("Learned layer weights (softmax, mean over folds x seeds)"),
            Table(["entry", "budget", *map(layer_name, range(n))], rows, id="layer-weights")]


def _against_layer(a) -> list:
    """@weighted against @auto of the same family per budget, and where the weighting loses, why (report.weighting)."""
    gaps = weighting_gaps(a.rows, a.best)
    if not gaps:
        return []
    scale = a.scale

    rows = [[Cell(a.name_of(g.weighted, g.classifier)), Cell(g.budget),
             Cell(difference_text(g.difference, g.low, g.high), num=True, strong=g.loses),
             Cell(g.picked), Cell(f"{g.val_agreed} of {g.folds}", num=True)] for g in gaps]
    losses = [f"{a.name_of(g.weighted, g.classifier)} at budget {g.budget}: {-100 * g.difference:.1f} points below "
              f"{a.name_of(g.auto, g.classifier)}; {g.why()}" for g in gaps if g.loses]
    verdict = (Bullets(losses) if losses else
               Paragraph(f"The weighting is never more than {100 * BELOW:.0f} point below the chosen layer here."))
    return [Heading("Layer weights against one chosen layer"),
            Paragraph(f"Each @weighted entry minus the @auto entry of the same family and classifier ({scale.name} "
                      "points, mean over folds with the corrected resampled t 95% interval), the weightings its folds "
                      "picked on validation speakers (learned weights, uniform, or one layer alone), and in how many "
                      "folds its validation score was at least the chosen layer's.", note=True),
            Table(["entry", "budget", "against @auto", "weighting picked (folds x seeds)", "val agreed"], rows,
                  id="weighting-against-layer"), verdict]


def section(inputs: Inputs) -> Section:
    a = inputs.analysis
    scale, (choices, weights) = a.scale, a.choices
    if choices.empty:
        blocks = [Paragraph("No entry in these results chose a layer or a classifier on validation speakers.")]
    else:
        blocks = [Paragraph(f"Chosen on the validation speakers of each fold (counts over folds x seeds), with the "
                            f"mean {scale.name} on those validation speakers and on the test speakers.", note=True),
                  Table(["entry", "budget", "chosen (folds x seeds)", f"val {scale.name}", f"test {scale.name}"],
                        [[Cell(a.name_of(r.family, r.classifier)), Cell(str(r.budget)), Cell(r.chosen), num(scale.fmt(r.val_ua)),
                          num(scale.fmt(r.ua))] for r in choices.itertuples()], id="choices")]
    blocks += _weights(a, weights) if not weights.empty else []
    return Section("choices", "Choices made on validation speakers", blocks + _against_layer(a))
