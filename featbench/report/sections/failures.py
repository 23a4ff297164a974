"""Who it fails: per gender and per test speaker, at each shown entry's largest budget (the baseline and the
headline's entries; every entry where there is no headline), from report.breakdown."""
from __future__ import annotations

import numpy as np

from featbench.report.breakdown import natural_key, spread_sentences
from featbench.report.model import Bullets, Cell, Heading, Paragraph, Section, Table
from featbench.report.sections.base import Inputs, num


def _shown(a, frame) -> object:
    """The rows of `frame` whose (family, classifier) is shown (a boolean mask, also when empty), each `entry` by its
    plain name."""
    frame = frame[np.array([(f, c) in a.shown for f, c in zip(frame.family, frame.classifier)], dtype=bool)]
    return frame.assign(entry=[a.name_of(f, c) for f, c in zip(frame.family, frame.classifier)])


def _speakers(speakers, scale, caution: str = "") -> list:
    wide = speakers.pivot_table(index="speaker", columns="entry", values="ua", sort=False)
    wide = wide.loc[sorted(wide.index, key=natural_key)]
    span = max(1e-9, 1 - scale.chance)
    rows = [[Cell(str(s)), *[Cell("") if v != v else Cell(scale.fmt(v), num=True,
                                                          shade=min(1.0, max(0.0, (v - scale.chance) / span)))
                             for v in row]] for s, row in zip(wide.index, wide.to_numpy())]
    return [Heading(f"{scale.heading} per test speaker, mean over seeds, at the largest budget"),
            Table(["speaker", *wide.columns], rows, id="speakers", caption=caution,
                  shading=f"Shaded from {scale.chance_name} (red) to 100% (green)." if scale.percent else "")]


def section(inputs: Inputs) -> Section:
    a = inputs.analysis
    scale, (speakers, genders) = a.scale, a.breakdowns
    speakers, genders = _shown(a, speakers), _shown(a, genders)
    if speakers.empty and genders.empty:
        return Section("failures", "Who it fails",
                       [Paragraph("These results hold no per-speaker scores (rows written before featbench 0.3).")])
    caution = a.groups.caution() if a.groups is not None else ""
    blocks = ([Paragraph(caution, note=True)] if caution else []) + [Bullets(spread_sentences(speakers, genders, scale,
                                                                                              bool(caution)))]
    if not genders.empty:
        blocks.append(Table(["entry", "budget", "gender", scale.name, "95% interval (folds)"],
                            [[Cell(r.entry), Cell(str(r.budget)), Cell(r.gender), num(scale.fmt(r.mean)),
                              num(scale.interval(r.ci_low, r.ci_high))] for r in genders.itertuples()], id="genders",
                            caption=caution))
    return Section("failures", "Who it fails", blocks + (_speakers(speakers, scale, caution) if not speakers.empty else []))
