"""Checkpoints of the session core and carrying on from one (after a crash, a lost output).

A mixin of SessionCore (core.py); the file format and where it lives are in checkpoint.py.
"""

from __future__ import annotations

from soundscape.engine.fades import SILENT_DB, ramp_to, steady
from soundscape.engine.state import PAUSED, PLAYING


class Checkpointing:

    def checkpoint(self, s: float) -> dict:
        """Everything needed to carry on after a crash (see checkpoint.py and restore)."""
        cur = self.current()
        track = None
        if cur is not None and not cur.failed:
            heard_s = s if self.decks_paused_at is None else self.decks_paused_at
            track = {"path": str(cur.path), "position_s": round(cur.position_s(heard_s), 3),
                     "phase_index": cur.phase_index}
        elif self.pending_track is not None:
            slot, position_s = self.pending_track
            track = {"path": str(slot.track.path), "position_s": position_s,
                     "phase_index": self.timeline.index}
        t = self.timeline
        return {
            "status": self.status, "session_s": round(s, 3), "index": t.index,
            "ends": t.ends, "starts": t.starts,
            "taken": {str(k): v for k, v in t.taken_counts().items()},
            "track": track, "held": self.held, "hushed": self.hushed,
            "level_override": self.level_override, "dosed_at": self.dosed_at,
            "boosters": self.boosters, "warnings": self.warnings,
        }

    def restore(self, data: dict, s: float) -> None:
        """Carry on from a checkpoint at session time ``s``: same phase and track, from silence.

        The session clock includes the time the room was down (the medicine went on), so phase
        ends stay where they were; the track resumes where it was heard last, fading in at the
        room's rise limit.
        """
        t = self.timeline
        t.ends = [float(x) for x in data["ends"]]
        t.starts = [None if x is None else float(x) for x in data["starts"]]
        t.index, t.started = int(data["index"]), True
        taken = {int(k): int(v) for k, v in data.get("taken", {}).items()}
        track = data.get("track")
        resume_current = track is not None and track.get("phase_index") == t.index
        for index, count in taken.items():
            skip = count - 1 if (index == t.index and resume_current) else count
            for _ in range(max(0, skip)):
                if t.peek(index) is None:
                    break
                t.next_slot(index)
        self.held, self.hushed = bool(data.get("held")), bool(data.get("hushed"))
        self.level_override = data.get("level_override")
        self.dosed_at = data.get("dosed_at")
        self.boosters = list(data.get("boosters", []))
        self.warnings = list(data.get("warnings", []))[-10:]
        self.status = PLAYING if data.get("status") == PLAYING else PAUSED
        self.master = steady(SILENT_DB, s)
        self.bed_master = ramp_to(steady(SILENT_DB, s), s, 0.0, rise_db_per_s=self.settings.rise_db_per_s,
                                  fall_db_per_s=self.settings.fall_db_per_s)
        slot = None
        if resume_current and t.peek(t.index) is not None:
            if str(t.peek(t.index).track.path) == track["path"]:
                slot = t.next_slot(t.index)
        if self.status == PAUSED:
            self.paused_at = s
            self.locked = True
            if slot is not None:
                self.pending_track = (slot, float(track["position_s"]))
            return
        self._retarget(s)
        if slot is not None:
            self._start_track(s, slot, 0.0, float(track["position_s"]))
