"""What the background analysis reports, as the engine takes it in (docs/analysis.md).

``Facts`` is what is known of each file: its length, normalisation gain, cue points, loudness and
whether anything in it can be played. The engine's parts read these dicts (the same objects), so
what the analysis learns shows at the next tick. ``Progress`` is how far the analysis has come,
and whether Start must still wait for the first tracks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

# Start waits for the first tracks' analysis at most this long (a huge file, a slow share):
# then it starts anyway, those tracks playing by their headers until analysed.
FIRST_WAIT_MAX_S = 20.0


@dataclass(frozen=True)
class Learned:
    """What the background analysis found of one file, for the engine thread to take in."""

    path: Path
    duration_s: float | None
    gain_db: float | None  # loudness normalisation (None: none, e.g. an ambience bed)
    cues: object | None  # loudness.cues.Cues
    error: str | None = None  # why nothing in it can be played (it does not decode), if so
    lufs: float | None = None  # its integrated loudness (what the dead-air guard expects)


@dataclass(frozen=True)
class AnalysisDone:
    """The background analysis has ended: every file reported, or ``error`` says why not."""

    error: str | None = None


def _paths(d: dict | None) -> dict:
    return {Path(k): v for k, v in (d or {}).items()}


class Facts:
    """Each file's length, gain, cue points, loudness and undecodability (keys are Paths)."""

    def __init__(self, durations=None, gains_db=None, cues=None, undecodable=None, lufs=None):
        self.durations = _paths(durations)
        self.gains_db = _paths(gains_db)
        self.cues = _paths(cues)
        self.undecodable = _paths(undecodable)
        self.lufs = _paths(lufs)

    def take(self, found: Learned) -> None:
        if found.duration_s is not None:
            self.durations[found.path] = found.duration_s
        if found.gain_db is not None:
            self.gains_db[found.path] = found.gain_db
        if found.cues is not None:
            self.cues[found.path] = found.cues
        if found.lufs is not None:
            self.lufs[found.path] = found.lufs
        if found.error is not None:
            self.undecodable[found.path] = found.error
        else:
            self.undecodable.pop(found.path, None)


@dataclass
class Progress:
    """The files the analysis will report, those Start waits for, and those reported so far."""

    awaited: set[Path] = field(default_factory=set)
    first: set[Path] = field(default_factory=set)
    reported: set[Path] = field(default_factory=set)
    since_s: float = 0.0  # the clock reading when the analysis began

    def expect(self, paths, first, now_s: float) -> None:
        self.awaited = {Path(p) for p in paths}
        self.first = {Path(p) for p in first}
        self.since_s = now_s

    def report(self, path: Path) -> None:
        if path in self.awaited:
            self.reported.add(path)

    def finish(self) -> int:
        """Nothing more will come: how many files were never reported (Start is free now)."""
        left = len(self.awaited - self.reported)
        self.reported |= self.awaited
        return left

    def state(self) -> dict | None:
        """``analysis`` in the State: done, total, first_pending (None: nothing analysed)."""
        if not self.awaited:
            return None
        return {"done": len(self.reported), "total": len(self.awaited),
                "first_pending": sorted(p.name for p in self.first - self.reported)}

    def start_may_wait(self, now_s: float) -> list[str]:
        """The first tracks Start still waits for (empty: it need not wait)."""
        pending = sorted(p.name for p in self.first - self.reported)
        return pending if pending and now_s - self.since_s < FIRST_WAIT_MAX_S else []
