"""The progress bar of a run over clips (extract, transcribe): opened at the first finished batch, with the ETA
and the failures as its note. The run's speed is said once, in its summary (`speed_text`), not in the bar as well.

>>> from types import SimpleNamespace
>>> progress_note(SimpleNamespace(audio_seconds=30.0, failed=0), 120.0, 10.0, 10.0, 5)
'ETA 0:45, 0 failed'
"""
from __future__ import annotations

import time

BAR_FORMAT = "{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}{postfix}]"


class LateBar:
    """A tqdm bar over `total` clips that opens at the first finished batch: the models are loaded by then, so the
    rate and the ETA count from there. `close()` works whether it opened or not.

    >>> bar = LateBar(3, "extract", progress=False)
    >>> bar.start(), bar.start()
    (True, False)
    >>> bar.update(3); bar.note("done"); bar.elapsed >= 0
    True
    >>> bar.close()
    """

    def __init__(self, total: int, desc: str, progress: bool = True):
        self.total, self.desc, self.progress = total, desc, progress
        self.bar = None
        self.clock = 0.0

    def start(self) -> bool:
        """Open the bar and start the clock on the first call (True: the caller notes its counts at the start)."""
        if self.bar is not None:
            return False
        from tqdm import tqdm

        self.bar = tqdm(total=self.total, unit="clip", disable=not self.progress, dynamic_ncols=True, desc=self.desc,
                        mininterval=0.5, bar_format=BAR_FORMAT)
        self.clock = time.perf_counter()
        return True

    @property
    def elapsed(self) -> float:
        """Seconds since the bar opened."""
        return time.perf_counter() - self.clock

    @property
    def n(self) -> int:
        """Clips counted so far (0 while the bar is disabled)."""
        return self.bar.n

    def update(self, clips: int) -> None:
        self.bar.update(clips)

    def note(self, text: str) -> None:
        """The note after the counts (speed, ETA, failures)."""
        self.bar.set_postfix_str(text, refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def speed_text(audio_seconds: float, wall_seconds: float) -> str:
    """A run's one speed figure, for its summary: audio seconds per wall-clock second, as realtime.

    >>> speed_text(87.0, 3.8)
    '87 s of audio in 3.8 s, 22.9x realtime'
    """
    speed = audio_seconds / wall_seconds if wall_seconds else 0.0
    return f"{audio_seconds:.0f} s of audio in {wall_seconds:.1f} s, {speed:.1f}x realtime"


def _eta_note(done: float, first: float, todo: float, elapsed: float, n_done: int, failed: int) -> str:
    """The ETA from what is left at the rate since the first batch, once a few batches are done."""
    rate = (done - first) / max(elapsed, 1e-9)
    if n_done < 4 or rate <= 0:
        return f"ETA after a few clips, {failed} failed"
    left = max(todo - done, 0) / rate
    return f"ETA {int(left // 60)}:{int(left % 60):02d}, {failed} failed"


def progress_note(report, seconds_todo: float, first_audio: float, elapsed: float, n_done: int) -> str:
    """The ETA from the audio still to do at the audio rate so far, once a few batches are done (clips differ in
    length, so a rate in clips would mislead). `report`: a run's report (its `audio_seconds` and `failed`).

    >>> from types import SimpleNamespace
    >>> progress_note(SimpleNamespace(audio_seconds=30.0, failed=1), 120.0, 10.0, 10.0, 2)
    'ETA after a few clips, 1 failed'
    """
    return _eta_note(report.audio_seconds, first_audio, seconds_todo, elapsed, n_done, report.failed)


def clip_note(failed: int, clips_todo: int, clips_done: int, first_clips: int, elapsed: float, n_done: int) -> str:
    """The same for runs without audio (text only): the ETA from the clips left at the clip rate so far.

    >>> clip_note(0, 100, 30, 10, 10.0, 5)
    'ETA 0:35, 0 failed'
    """
    return _eta_note(clips_done, first_clips, clips_todo, elapsed, n_done, failed)
