"""Choices made on validation speakers: the layers and classifiers each entry chose per budget (counts over
folds x seeds), and the layer weights `@weighted` entries learned (report.choices)."""
from __future__ import annotations

from featbench.layers import layer_name
from featbench.report.model import Cell, Heading, Paragraph, Section, Table
from featbench.report.sections.base import Inputs, num


def _weights(a, weights) -> list:
    n = len([c for c in weights.columns if c.startswith("w")])
    rows = [[Cell(a.name_of(r["family"], r["classifier"])), Cell(str(r["budget"])),
             *[Cell(f"{r[f'w{k}']:.2f}", num=True, bar=float(r[f"w{k}"])) for k in range(n)]]
            for _, r in weights.iterrows()]
    return [Heading("Learned layer weights (softmax, mean over folds x seeds)"),
            Table(["entry", "budget", *map(layer_name, range(n))], rows, id="layer-weights")]


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
    return Section("choices", "Choices made on validation speakers", blocks + (_weights(a, weights) if not weights.empty else []))
