"""The planned arc: when each phase starts and which tracks fill it, computed without playing.

``make_plan`` applies the same rules the engine follows in real time (phase ends anchored to the
session clock, ``at_end``, ``when_short``, crossfade overlaps, the shared track order), so what a
clinician reads in ``soundscape plan`` is what the room will hear.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from soundscape.playlist.model import Phase, Playlist
from soundscape.schedule.handover import END_MARGIN_S, handover_floor_s, handover_s
from soundscape.schedule.sequence import default_path, track_window

MAX_TRACKS_PER_PHASE = 10_000  # a guard against zero-length tracks looping forever


@dataclass(frozen=True)
class PlannedTrack:
    path: Path
    title: str
    start_s: float  # session time the track starts
    duration_s: float  # how long it is heard (after trims, crossfade tail included, cut applied)
    repeat: bool = False  # a second or later pass through the phase's list
    cut: bool = False  # ended early by the phase's end (at_end: fade)
    from_s: float = 0.0  # where in its file it starts (a trim, or its audible start)
    cued_in: bool = False  # its leading silence is skipped (starts at its audible start)
    cued_out: bool = False  # its silent tail is not played (ends at its audible end)
    own_fade_s: float = 0.0  # it fades out by itself over this long at its end
    slot: int = 0  # its place in the phase's sequence (passed-over tracks hold a place too)
    intensity: int = 3  # the pool it comes from (the nearest to the phase's intensity)


@dataclass(frozen=True)
class PlannedPhase:
    name: str
    start_s: float
    duration_s: float
    level_pct: float
    tracks: tuple[PlannedTrack, ...]
    silence_s: float = 0.0  # music missing before the phase ends (when_short: silence), or unknown
    unknown: tuple[Path, ...] = ()  # files whose length could not be read
    overrun_s: float = 0.0  # time the last track runs past the planned end (at_end: finish)
    intensity: int = 3  # where the phase starts
    pools: dict = field(default_factory=dict)  # intensity -> its tracks' paths (listed order)


@dataclass(frozen=True)
class Plan:
    title: str
    seed: int
    phases: tuple[PlannedPhase, ...] = field(default_factory=tuple)
    file_durations: dict = field(default_factory=dict, compare=False, repr=False)
    file_cues: dict = field(default_factory=dict, compare=False, repr=False)
    cues: tuple = ()  # (Cue, planned session time or None) of the playlist's cues

    @property
    def total_s(self) -> float:
        last = self.phases[-1]
        return last.start_s + last.duration_s if self.phases else 0.0

    def to_json(self) -> dict:
        return {
            "title": self.title,
            "seed": self.seed,
            "total_s": round(self.total_s, 3),
            "phases": [
                {
                    "name": p.name,
                    "start_s": round(p.start_s, 3),
                    "duration_s": round(p.duration_s, 3),
                    "level": p.level_pct,
                    "intensity": p.intensity,
                    "intensities": {str(k): [str(path) for path in v]
                                    for k, v in p.pools.items()},
                    "silence_s": round(p.silence_s, 3),
                    "tracks": [
                        {
                            "path": str(t.path),
                            "title": t.title,
                            "start_s": round(t.start_s, 3),
                            "duration_s": round(t.duration_s, 3),
                            "repeat": t.repeat,
                            "cut": t.cut,
                            "from_s": round(t.from_s, 3),
                            "cued_in": t.cued_in,
                            "cued_out": t.cued_out,
                            "own_fade_s": round(t.own_fade_s, 3),
                            "intensity": t.intensity,
                        }
                        for t in p.tracks
                    ],
                }
                for p in self.phases
            ],
            "cues": [{"id": cue.id, "at": cue.at, "text": cue.text,
                      "planned_s": None if at_s is None else round(at_s, 3)}
                     for cue, at_s in self.cues],
        }


def phase_ends_s(phases: tuple[Phase, ...] | list[Phase]) -> list[float]:
    """Planned end of each phase on the session clock (cumulative durations)."""
    ends, total = [], 0.0
    for phase in phases:
        total += phase.duration_s
        ends.append(total)
    return ends


def _fill_phase(phase: Phase, index: int, start_s: float, end_s: float, durations, seed: int,
                cues: dict):
    """Lay out one phase's tracks from start_s; returns (tracks, music_end_s, unknown, overrun_s).

    music_end_s is when the next phase begins: the planned end, or earlier when the tracks run out
    (``silence``), or later when the last track plays out (``finish``).
    """
    tracks: list[PlannedTrack] = []
    unknown: list[Path] = []
    t = start_s
    previous_len = None
    exhausted = True  # the sequence ran out (when_short: silence) before the phase's end
    for n, slot in enumerate(default_path(phase, seed, index)):
        if n >= MAX_TRACKS_PER_PHASE or t >= end_s:
            exhausted = False
            break
        window = track_window(slot.track, durations.get(slot.track.path),
                              cues.get(slot.track.path))
        length = None if window is None else window.length_s
        if length is None:
            unknown.append(slot.track.path)
            return tracks, end_s, tuple(unknown), 0.0
        if length <= 0:
            continue
        if tracks and previous_len is not None:
            if t - END_MARGIN_S >= end_s + handover_floor_s(phase.crossfade_s):
                exhausted = False
                break  # the last track outlasts the phase: the phase's end hands over
            t -= handover_s(phase.crossfade_s, previous_len, length, tracks[-1].own_fade_s)[0]
            if t >= end_s:
                exhausted = False
                break
        tracks.append(PlannedTrack(slot.track.path, slot.track.title, t, length, slot.repeat,
                                   False, window.start_s, window.cued_in, window.cued_out,
                                   window.fade_s, n, slot.track.intensity))
        previous_len = length
        t += length
    if not tracks:
        return tracks, end_s, tuple(unknown), 0.0
    last = tracks[-1]
    last_end = last.start_s + last.duration_s
    lead = handover_s(phase.crossfade_s, last.duration_s, last.duration_s, last.own_fade_s)[0]
    if last_end <= end_s:
        # within the phase; if its tracks ran out, the next phase crossfades in as the last ends
        return tracks, (last_end - lead if exhausted else end_s), tuple(unknown), 0.0
    if phase.at_end == "finish":
        return tracks, max(end_s, last_end - lead), tuple(unknown), last_end - end_s
    tracks[-1] = dataclasses.replace(last, duration_s=end_s - last.start_s, cut=True,
                                     own_fade_s=0.0)
    return tracks, end_s, tuple(unknown), 0.0


def make_plan(playlist: Playlist, durations: dict, seed: int = 0, cues: dict | None = None,
              undecodable=()) -> Plan:
    """Plan the whole session. ``durations`` maps each file to its length in seconds (or None),
    ``cues`` each analysed file to its cue points (loudness.cues.Cues); files in
    ``undecodable`` (the analysis found nothing to play in them) are passed over, as play does."""
    cues = dict(cues or {})
    if undecodable:
        durations = {**durations, **{Path(p): 0.0 for p in undecodable}}
    ends = phase_ends_s(playlist.phases)
    planned: list[PlannedPhase] = []
    start_s = 0.0
    last_index = len(playlist.phases) - 1
    for index, phase in enumerate(playlist.phases):
        end_s = max(ends[index], start_s)
        tracks, music_end_s, unknown, overrun_s = _fill_phase(phase, index, start_s, end_s, durations, seed,
                                                               cues)
        silence_s = 0.0
        if unknown:
            silence_s = 0.0
        elif phase.tracks and music_end_s < end_s:
            silence_s = end_s - music_end_s
            if index == last_index and tracks:  # nothing crossfades in: silence from the last end
                silence_s = max(0.0, end_s - (tracks[-1].start_s + tracks[-1].duration_s))
        # Phase boundaries stay on the session clock: `silence` ends a phase early and `finish`
        # late, moving only the boundary with the next phase, never the ones after it.
        boundary_s = music_end_s if (phase.tracks and index < last_index) else end_s
        if phase.at_end == "finish" and index == last_index:
            boundary_s = max(end_s, music_end_s)
        planned.append(PlannedPhase(
            phase.name, start_s, boundary_s - start_s, phase.level_pct, tuple(tracks),
            silence_s, unknown, overrun_s, phase.intensity,
            {i: tuple(dict.fromkeys(t.path for t in phase.tracks if t.intensity == i))
             for i in phase.intensities},
        ))
        start_s = boundary_s
    return Plan(playlist.title, seed, tuple(planned), dict(durations), cues,
                tuple(_planned_cues(playlist, planned)))


def _planned_cues(playlist: Playlist, phases: list[PlannedPhase]) -> list[tuple]:
    """(cue, planned session time) of each cue: a dose-relative one counts from the dose
    phase's planned end (where the dose is expected), a phase-relative one from its start."""
    starts = {p.name: p.start_s for p in phases}
    dose_s = None
    if playlist.medicine is not None:
        dose = next(p for p in phases if p.name == playlist.medicine.dose_phase)
        dose_s = dose.start_s + dose.duration_s
    out = []
    for cue in playlist.cues:
        base = {"session": 0.0, "dose": dose_s, "phase": starts.get(cue.phase)}[cue.kind]
        out.append((cue, None if base is None else base + cue.offset_s))
    return out
