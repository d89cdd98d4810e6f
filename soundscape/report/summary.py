"""What a session log says happened, gathered in one pass: phases, tracks, actions, warnings.

What the room did (cues, notes, intensity, play next, bans) is gathered by ``steering``.

The log is untrusted (a file anyone could edit): every value is read with ``num`` or ``text``,
never trusted to have the type it should.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from soundscape.engine.sessionlog import read_log
from soundscape.errors import SoundscapeError
from soundscape.report import steering
from soundscape.report.values import num, text, wall_time

ABRUPT_NOTE = "the log ends abruptly (the session was interrupted)"
RUNNING_NOTE = "the session is still running; this report shows it so far"
ENDINGS = {"crossfade": "crossfade", "skipped": "skipped", "failed": "failed",
           "phase ended": "phase ended"}


@dataclass
class PhaseRow:
    name: str
    planned_start_s: float | None
    planned_end_s: float | None
    start_s: float | None
    end_s: float | None = None

    @property
    def planned_length_s(self) -> float | None:
        if self.planned_start_s is None or self.planned_end_s is None:
            return None
        return self.planned_end_s - self.planned_start_s

    @property
    def length_s(self) -> float | None:
        if self.start_s is None or self.end_s is None:
            return None
        return self.end_s - self.start_s


@dataclass
class TrackRow:
    phase: str
    title: str
    path: str
    start_s: float | None
    start_wall: str
    planned_start_s: float | None
    repeat: bool
    end_s: float | None = None
    end_wall: str = ""
    ending: str = ""  # crossfade, skipped, failed, phase ended, session ended, interrupted
    intensity: int | None = None  # the pool of its phase it was played from
    queued: bool = False  # played because a facilitator chose play next
    queued_by: str = ""  # who did


@dataclass
class Session:
    """Everything the renderers show, gathered from the log entries in one pass."""

    title: str = "(untitled session)"
    playlist: str = ""
    seed: str = ""
    output: str = ""
    started_wall: str = ""
    ended_wall: str = ""  # the last entry's wall clock
    planned_total_s: float | None = None
    actual_total_s: float | None = None
    end_reason: str = ""
    note: str = ""  # shown when the log ends without session_end
    phases: list[PhaseRow] = field(default_factory=list)
    tracks: list[TrackRow] = field(default_factory=list)
    actions: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    room: list[steering.Happening] = field(default_factory=list)  # what the room did

    @property
    def intensities(self) -> set[int]:
        """The intensities the tracks were played at (one or none: the column is left out)."""
        return {t.intensity for t in self.tracks if t.intensity is not None}


# the commands whose effect has its own log entry, shown under "What the room did"
STEERING_ACTIONS = ("intensity", "play_next", "ban", "ack_cue", "note")


def action_label(entry: dict) -> str:
    """``set_level`` with ``{level: 55}`` reads as 'set level 55%'."""
    action = text(entry.get("action")).replace("_", " ") or "?"
    params = entry.get("params") if isinstance(entry.get("params"), dict) else {}
    units = {"level": "%", "minutes": " min", "seconds": " s"}
    shown = [f"{num(v):g}{units.get(k, '')}" if num(v) is not None else f"{k}={text(v)}"
             for k, v in params.items()]
    return " ".join([action] + shown)


def event_summary(entry: dict) -> str:
    """One line for the event list; unknown events show their fields as key=value."""
    kind = entry.get("event")
    if kind == "session_open":
        return f"session opened: {text(entry.get('title'))}"
    if kind in ("phase_start", "phase_end"):
        return f"phase {text(entry.get('phase'))} {'starts' if kind == 'phase_start' else 'ends'}"
    if kind == "track_start":
        again = " (again)" if entry.get("repeat") is True else ""
        return f"track {text(entry.get('title'))}{again} starts"
    if kind == "track_end":
        return f"track {Path(text(entry.get('path'))).name} ends: {text(entry.get('reason'))}"
    if kind == "command":
        who = text(entry.get("by")) or f"({text(entry.get('source'))})"
        result = "done" if entry.get("ok") is True else f"refused: {text(entry.get('reason'))}"
        return f"{action_label(entry)} by {who}: {result}"
    if kind == "warning":
        return f"warning: {text(entry.get('message'))}"
    if kind in steering.KINDS:
        by = text(entry.get("by"))
        return steering.describe(entry) + (f" (by {by})" if by else "")
    if kind == "session_end":
        return f"session ended: {text(entry.get('reason'))}"
    rest = [f"{k}={text(v)}" for k, v in entry.items() if k not in ("t", "event", "session_s")]
    return " ".join([text(kind) or "(no event name)"] + rest)


def summarize(entries: list[dict], *, torn: bool = False, live: bool = False) -> Session:
    """Gather a report from log entries. ``live``: a running session, so no end is not a crash."""
    session = Session()
    open_tracks: list[TrackRow] = []
    queued_by: dict[str, str] = {}  # path -> who put it next, until it plays
    last_s = None
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        session.events.append(entry)
        session.ended_wall = text(entry.get("t")) or session.ended_wall
        kind, here = entry.get("event"), num(entry.get("session_s"))
        last_s = here if here is not None else last_s
        if kind == "session_open":
            session.title = text(entry.get("title")) or session.title
            session.playlist, session.output = text(entry.get("playlist")), text(entry.get("output"))
            session.seed = text(entry.get("seed"))
            session.started_wall = text(entry.get("t"))
            session.planned_total_s = num(entry.get("planned_total_s"))
        elif kind == "phase_start":
            at = num(entry.get("actual_s"))
            session.phases.append(PhaseRow(text(entry.get("phase")), num(entry.get("planned_s")),
                                           None, at if at is not None else here))
        elif kind == "phase_end" and session.phases:
            row = session.phases[-1]
            at = num(entry.get("actual_s"))
            row.end_s, row.planned_end_s = (at if at is not None else here), num(entry.get("planned_s"))
        elif kind == "track_start":
            at = num(entry.get("actual_s"))
            row = TrackRow(text(entry.get("phase")), text(entry.get("title")), text(entry.get("path")),
                           at if at is not None else here, wall_time(entry.get("t")),
                           num(entry.get("planned_s")), entry.get("repeat") is True)
            level = num(entry.get("intensity"))
            row.intensity = None if level is None else int(level)
            row.queued = entry.get("queued") is True
            row.queued_by = queued_by.pop(row.path, "") if row.queued else ""
            session.tracks.append(row)
            open_tracks.append(row)
        elif kind == "track_end":
            match = next((r for r in open_tracks if r.path == text(entry.get("path"))), None)
            if match is not None:
                open_tracks.remove(match)
                match.end_s, match.end_wall = here, wall_time(entry.get("t"))
                reason = text(entry.get("reason"))
                match.ending = ENDINGS.get(reason, reason or "ended")
        elif kind == "play_next":
            queued_by[text(entry.get("path"))] = text(entry.get("by"))
        elif kind == "command":
            if not (entry.get("ok") is True and entry.get("action") in STEERING_ACTIONS):
                session.actions.append(entry)  # steering done is under what the room did
        elif kind == "warning":
            session.warnings.append(entry)
        elif kind == "session_end":
            session.end_reason = text(entry.get("reason")) or "ended"
            session.actual_total_s = num(entry.get("actual_s"))
            if session.actual_total_s is None:
                session.actual_total_s = here
            for row in open_tracks:
                row.end_s, row.end_wall, row.ending = here, wall_time(entry.get("t")), "session ended"
            open_tracks = []
    if not session.end_reason:
        session.note = RUNNING_NOTE if live and not torn else ABRUPT_NOTE
        session.actual_total_s = last_s
        for row in open_tracks:
            row.ending = "still playing" if live else "interrupted"
        for row in session.phases:
            if row.end_s is None and not live:
                row.end_s = last_s
    if live and session.phases and session.phases[-1].end_s is None:
        session.phases[-1].end_s = last_s
    session.room = steering.gather(session.events, live=live)
    return session


def read_session(path) -> tuple[list[dict], bool]:
    """The log's entries, and whether its last line was torn (the session crashed mid-write)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SoundscapeError(f"cannot read session log {path}: {exc.strerror}") from None
    try:
        lines = [line for line in raw.decode("utf-8").splitlines() if line.strip()]
    except UnicodeDecodeError:
        raise SoundscapeError(f"{path} is not a session log (it is not UTF-8 text)") from None
    if not lines:
        raise SoundscapeError(f"{path} is empty, not a session log")
    entries = read_log(path)
    torn = len(entries) < len(lines)
    if not entries or not all(isinstance(e, dict) for e in entries) \
            or entries[0].get("event") != "session_open":
        raise SoundscapeError(f"{path} is not a session log (it does not start with session_open)")
    return entries, torn
