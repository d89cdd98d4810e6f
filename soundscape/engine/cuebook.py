"""The playlist's silent cues during a session: when each is due, and who saw to it.

A cue is due on the session clock: a session time, or a time after the dose mark or after a
phase began, so cues move with extensions, holds and the dose as the phases do. Nothing is ever
played: a due cue shows on every phone until one facilitator acknowledges it (``ack_cue``);
one acknowledged before it is due never comes up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from soundscape.playlist.model import Cue

if TYPE_CHECKING:  # the core imports this module; only its type is needed here
    from soundscape.engine.core import SessionCore


@dataclass
class CueMark:
    due_s: float | None = None  # session time it became due
    acked_by: str = ""
    acked_at_s: float | None = None

    @property
    def acked(self) -> bool:
        return self.acked_at_s is not None


class CueBook:
    def __init__(self, cues: tuple[Cue, ...]):
        self.cues = cues
        self.marks: dict[str, CueMark] = {cue.id: CueMark() for cue in cues}

    def get(self, cue_id: str) -> Cue | None:
        return next((c for c in self.cues if c.id == cue_id), None)

    def due_at(self, core: SessionCore, cue: Cue) -> float | None:
        """When the cue is due as things stand, once its reference has happened (else None)."""
        if cue.kind == "session":
            return cue.offset_s
        if cue.kind == "dose":
            return None if core.dosed_at is None else core.dosed_at + cue.offset_s
        names = [p.name for p in core.playlist.phases]
        j = names.index(cue.phase)
        started = core.timeline.started and j <= core.timeline.index
        start = core.timeline.starts[j] if started else None
        return None if start is None else start + cue.offset_s

    def expected_at(self, core: SessionCore, cue: Cue, phase_starts: list[float]) -> float | None:
        """When it is due, or is expected to be (a phase not begun yet: as the phases stand)."""
        at = self.due_at(core, cue)
        if at is None and cue.kind == "phase":
            j = [p.name for p in core.playlist.phases].index(cue.phase)
            if j > core.timeline.index or not core.timeline.started:
                at = phase_starts[j] + cue.offset_s
        return at

    def never_due(self, core: SessionCore, cue: Cue) -> bool:
        """A cue that can no longer fall due: the session ended first, or its phase was passed
        without being played (the dose mark ends every phase up to the dose phase)."""
        from soundscape.engine.core import Status  # the core imports this module
        if self.marks[cue.id].due_s is not None:
            return False
        if core.status is Status.ENDED:
            return True
        if cue.kind != "phase" or not core.timeline.started:
            return False
        j = [p.name for p in core.playlist.phases].index(cue.phase)
        return j < core.timeline.index and core.timeline.starts[j] is None

    def tick(self, core: SessionCore, s: float) -> None:
        """Cues whose time has come are due now (logged once, with the time they were due)."""
        for cue in self.cues:
            mark = self.marks[cue.id]
            if mark.due_s is not None or mark.acked:
                continue
            at = self.due_at(core, cue)
            if at is not None and s >= at:
                mark.due_s = at
                core.log("cue_due", id=cue.id, text=cue.text, at=cue.at, due_s=round(at, 3))

    def next_due(self, core: SessionCore) -> list[float]:
        """The times the engine must wake for (cues not due yet whose time is known)."""
        out = []
        for cue in self.cues:
            mark = self.marks[cue.id]
            if mark.due_s is None and not mark.acked:
                at = self.due_at(core, cue)
                if at is not None:
                    out.append(at)
        return out

    def refusal(self, cue_id: str) -> str:
        cue = self.get(cue_id)
        if cue is None:
            known = ", ".join(c.id for c in self.cues) or "none"
            return f"no cue '{cue_id}' in this playlist (its cues: {known})"
        mark = self.marks[cue_id]
        if mark.acked:
            from soundscape.timefmt import clock
            who = f" by {mark.acked_by}" if mark.acked_by else ""
            return f"cue '{cue.text}' was already acknowledged at {clock(mark.acked_at_s)}{who}"
        return ""

    def ack(self, core: SessionCore, cue_id: str, by: str, s: float) -> None:
        cue, mark = self.get(cue_id), self.marks[cue_id]
        mark.acked_by, mark.acked_at_s = by, s
        core.log("cue_ack", id=cue.id, text=cue.text, by=by,
                 due_s=None if mark.due_s is None else round(mark.due_s, 3),
                 early=mark.due_s is None)

    def signature(self) -> tuple:
        return tuple((m.due_s is not None, m.acked) for m in self.marks.values())

    def view(self, core: SessionCore, phase_starts: list[float]) -> tuple[dict, ...]:
        """Every cue for the state: due (not acknowledged), coming, or acknowledged."""
        out = []
        for cue in self.cues:
            mark = self.marks[cue.id]
            status = "acked" if mark.acked else "due" if mark.due_s is not None else \
                "skipped" if self.never_due(core, cue) else "coming"
            at = mark.due_s if mark.due_s is not None else None if status == "skipped" else \
                self.expected_at(core, cue, phase_starts)
            out.append({"id": cue.id, "text": cue.text, "at": cue.at,
                        "at_s": None if at is None else round(at, 2), "status": status,
                        "due_s": None if mark.due_s is None else round(mark.due_s, 2),
                        "acked_by": mark.acked_by,
                        "acked_at_s": None if mark.acked_at_s is None else round(mark.acked_at_s,
                                                                                 2)})
        return tuple(out)

    def checkpoint(self) -> dict:
        return {cid: {"due_s": m.due_s, "acked_by": m.acked_by, "acked_at_s": m.acked_at_s}
                for cid, m in self.marks.items() if m.due_s is not None or m.acked}

    def restore(self, data: dict) -> None:
        for cid, mark in (data or {}).items():
            if cid in self.marks:
                self.marks[cid] = CueMark(mark.get("due_s"), str(mark.get("acked_by", "")),
                                          mark.get("acked_at_s"))
