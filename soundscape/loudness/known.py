"""What is known of a playlist's files: the analysis where there is one, the header otherwise.

``plan``, ``check``, ``preflight``, ``play`` and ``serve`` all read lengths and cue points here,
so every command lays out the same timeline: a file's decoded length and cue points once it has
been analysed (the cache), its header's length until then.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from soundscape import library
from soundscape.loudness.cache import cached, measure
from soundscape.loudness.meter import Measurement


@dataclass
class Known:
    durations: dict[Path, float | None] = field(default_factory=dict)
    cues: dict = field(default_factory=dict)  # Path -> loudness.cues.Cues
    analysed: dict[Path, Measurement] = field(default_factory=dict)
    missing: list[Path] = field(default_factory=list)  # not analysed yet (header lengths used)


def known(paths: Iterable[str | os.PathLike], analyse: bool = False,
          on_result: Callable[[Path, Measurement], None] | None = None) -> Known:
    """Lengths and cue points of ``paths``; ``analyse`` decodes what the cache lacks first."""
    files = [Path(p) for p in dict.fromkeys(os.fspath(p) for p in paths)]
    found = measure(files, on_result) if analyse else cached(files)
    result = Known(library.durations(files))
    for path in files:
        m = found.get(path)
        if m is None:
            result.missing.append(path)
            continue
        result.analysed[path] = m
        if m.duration_s is not None:
            result.durations[path] = m.duration_s
        if m.cues is not None:
            result.cues[path] = m.cues
    return result
