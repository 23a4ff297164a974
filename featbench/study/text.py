"""What `featbench study plan` and `status` print: one line per step part (a family of a corpus, a view x
classifier of a grid) with its cells' states, totals, and the CPU time of what is missing (from recorded timings).

>>> duration(4000.0), duration(None)
('1 h 07 min', 'unknown (no timing recorded yet)')
"""
from __future__ import annotations

from featbench.study.inventory import MISSING, Inventory
from featbench.study.resolve import Resolved


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown (no timing recorded yet)"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = int(round(seconds / 60))
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def held_elsewhere(elsewhere: dict[str, int]) -> str:
    """Why missing cells whose rows exist are missing: those rows carry another family config hash.

    >>> print(held_elsewhere({"1ff9192ae43d": 12}) + "|" + held_elsewhere({}) + "|")
     (12 held under config hash 1ff9192ae43d: options, model or library versions changed)||
    """
    if not elsewhere:
        return ""
    n, hashes = sum(elsewhere.values()), ", ".join(sorted(elsewhere))
    return f" ({n} held under config hash {hashes}: options, model or library versions changed)"


def _grid_dimensions(resolved: Resolved) -> list[str]:
    lines = []
    for grid in resolved.study.grids:
        shape = resolved.shapes[grid.name]
        tested = f"trained on {grid.corpus}, tested on {grid.test_corpus}" if grid.test_corpus else f"corpus {grid.corpus}"
        lines.append(f"  grid {grid.name}: {tested}, {len(shape.classes)} classes, {shape.n_folds} folds, budgets "
                     f"{','.join(shape.budgets)}, seeds {','.join(map(str, grid.seeds))}, test conditions "
                     f"{','.join(shape.tests)} -> {grid.results}")
    return lines


def render(resolved: Resolved, inv: Inventory, title: str, cells: bool = False) -> str:
    """The plan or status text."""
    study = resolved.study
    extraction, training = inv.counts("extract"), inv.counts("train")
    out = [f"{title} of study '{study.name}' ({study.path})",
           f"extraction cells (corpus x family x condition, counted in clips): {extraction.total} clips: {extraction.text()}",
           f"training cells (grid x view x classifier x budget x fold x seed x test condition): {training.total}: "
           f"{training.text()}", *_grid_dimensions(resolved)]
    transcription = inv.counts("transcribe")
    if transcription.total:
        out.insert(1, f"transcription cells (corpus x clip, by its Whisper folder): {transcription.total} clips: "
                      f"{transcription.text()}")
    if inv.running_step:
        out.append(f"running now: {inv.running_step}")
    out += [f"failed last time: {step}: {why}" for step, why in inv.failed_steps.items()]
    for line in inv.lines:
        out.append(f"  {line.step:<24} {line.what:<48} {line.counts.text()}{held_elsewhere(line.elsewhere)}")
        if cells:
            out += [f"    {MISSING}: {cell}" for cell in line.missing]
    seconds, unknown = inv.seconds(), inv.unknown()
    if unknown:
        out.append(f"CPU time of the missing cells: unknown for {unknown} step parts (no timing recorded yet in their "
                   f"store or in any results file of the study); {duration(seconds or 0.0)} for the others")
    else:
        out.append(f"CPU time of the missing cells: {duration(seconds)}")
    if seconds is not None and not unknown:
        out.append(f"ETA with jobs = {study.jobs}: {duration(seconds / study.jobs)}")
    return "\n".join(out)
