"""The dead-air guard: the engine listens to what the room hears and acts on a silence.

Every LISTEN_EVERY_S the engine reads the output's meter (on PulseAudio: a peak-detecting record
stream on the sink's monitor, engine/pulsemeter.py). When music should be audible (playing, not
paused, ending, hushed to silence or between tracks) and the room has heard nothing for
DEAD_AIR_S, the guard acts: a warning on every phone and the next track fading in. A file that is
silent in its middle (a hidden track after a minute of nothing), a deck that plays but sends no
sound, a stream the sound server dropped: the room is never left in dead air.

"Nothing" is judged against what should be heard: the track's loudness (its analysis), its gain,
the level now and the sink's volume. A peak SILENT_BELOW_DB under that is silence; where that
would be below FLOOR_DBFS (a very quiet track at a very low level), nothing is judged. A muted
sink, or one turned down to its silent floor, is not dead air: it is shown on the page (and put
back when the room config says soundscape owns the sink) instead of skipping tracks the room
cannot hear anyway. A pause the analysis found inside a track (shorter than LONG_GAP_S: between
movements) is part of the music; a longer one (a hidden track after minutes of nothing) is dead
air. When two acts in a row bring no sound (the meter listens to the wrong speaker), the guard
stops acting and says so, until it hears the music again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

LISTEN_EVERY_S = 0.25  # the meter is read this often (the page's meter: a few updates a second)
DEAD_AIR_S = 2.0  # this long without sound while music should be heard: the guard acts
GRACE_S = 1.5  # no judging this close to a track's start or end (fades, a deck starting)
# A track not analysed yet may begin with silence the cue points would have skipped: its start
# is not judged for this long, or until it is heard (the analysis runs ahead of the music, so
# this is rare).
UNANALYSED_LEAD_S = 10.0
REST_S = 8.0  # after acting, the guard waits this long before it may act again
SILENT_BELOW_DB = 40.0  # a peak this far under the expected loudness counts as silence
FLOOR_DBFS = -80.0
UNANALYSED_LUFS = -23.0  # the loudness assumed for a track not analysed yet (the target)
METER_STEP_DB = 3.0  # the page's meter moves in steps of this (fewer republished states)
MIN_VOLUME_PCT = 10.0  # a sink turned down to its silent floor (-60 dB) is not judged
LONG_GAP_S = 10.0  # a silent span the analysis found shorter than this is part of the music
MAX_UNANSWERED = 2  # acts with no sound heard since: the meter is not hearing the music


@dataclass
class Watch:
    """What the room hears now, and the guard's own memory of silences."""

    heard_dbfs: float | None = None  # the latest peak (None: no meter, or it is not running)
    muted: bool | None = None
    volume_pct: float | None = None
    listening: bool = False  # a meter answers
    silent_since: float | None = None
    rest_until: float = -math.inf
    warned_muted: bool = False
    volume_warned_at: float = -math.inf
    unanswered: int = 0  # dead-air acts since sound was last heard where it was expected
    heard_voice: object = None  # the music voice the room was last heard playing
    deaf_warned: bool = False
    last_volume: float | None = None

    def room(self) -> dict | None:
        """The room's part of the state the page shows (None: nothing is listened to)."""
        if not self.listening and self.muted is None and self.volume_pct is None:
            return None
        return {"heard_dbfs": None if self.heard_dbfs is None else round(self.heard_dbfs, 1),
                "muted": self.muted, "volume_pct": None if self.volume_pct is None
                else round(self.volume_pct), "listening": self.listening}

    def step(self) -> tuple:
        """The meter in METER_STEP_DB steps, for the publisher's signature."""
        heard = None if self.heard_dbfs is None else round(self.heard_dbfs / METER_STEP_DB)
        return heard, self.muted, None if self.volume_pct is None else round(self.volume_pct)


def expected_dbfs(core, s: float, heard_voice=None) -> float | None:
    """How loud the music should be in the room now, or None when silence would be right.

    ``heard_voice``: the voice the room has already been heard playing (its unanalysed lead,
    if any, is over)."""
    from soundscape.engine.deck import DeckStatus
    from soundscape.engine.state import Status

    if core.status is not Status.PLAYING or core.ending or not core.levels.audible(s):
        return None
    cur = core.music.current()
    if cur is None or cur.failed or cur.natural_end is None:
        return None
    lead = GRACE_S if cur.verified or cur is heard_voice else UNANALYSED_LEAD_S
    if s - cur.started_s < lead or cur.natural_end - s < GRACE_S:
        return None
    if any(v is not cur and not v.released for v in core.music.voices):
        return None  # a crossfade is under way
    try:
        if cur.deck.status() is not DeckStatus.PLAYING:
            return None
    except Exception:  # noqa: BLE001 - a deck that cannot say is judged by its verdict instead
        return None
    position = cur.position_s(s)
    cues = core.music.cues_of(cur.path)
    if cues is not None and any(a - GRACE_S <= position < b + GRACE_S
                                for a, b in cues.quiet if b - a < LONG_GAP_S):
        return None  # a pause the analysis found in the music itself (between movements)
    gain = core.levels.gain(cur, s)
    if gain <= 0:
        return None
    lufs = core.lufs.get(cur.path, UNANALYSED_LUFS)
    return lufs + 20.0 * math.log10(gain)


def listen(core, watch: Watch, reading, s: float) -> str | None:
    """Take one meter reading; returns what to do: "dead_air" or None."""
    watch.listening = reading is not None and reading.peak_dbfs is not None
    watch.heard_dbfs = None if reading is None else reading.peak_dbfs
    watch.muted = None if reading is None else reading.muted
    watch.volume_pct = None if reading is None else reading.volume_pct
    _speaker_warnings(core, watch, s)
    expected = expected_dbfs(core, s, watch.heard_voice)
    if expected is None and watch.listening and watch.heard_dbfs > FLOOR_DBFS + 20:
        cur = core.music.current()
        alone = cur is not None and all(v is cur or v.released for v in core.music.voices)
        if alone and s - cur.started_s >= GRACE_S:
            watch.heard_voice = cur  # its own sound, while its lead is not judged: heard
    if expected is not None and watch.volume_pct is not None:
        # A sink turned down is quieter on its monitor (software volume; a hardware mixer's
        # monitor is before it, and then this only makes the guard more lenient).
        if watch.volume_pct < MIN_VOLUME_PCT:
            expected = None
        else:
            expected += 60.0 * math.log10(watch.volume_pct / 100.0)  # the cubic scale
    threshold = None if expected is None else expected - SILENT_BELOW_DB
    if (not watch.listening or watch.muted or threshold is None or threshold < FLOOR_DBFS):
        watch.silent_since = None
        return None
    if watch.heard_dbfs > threshold:
        watch.heard_voice = core.music.current()
        watch.silent_since = None
        watch.unanswered = 0  # sound where sound was expected: the meter hears the music
        return None
    if watch.silent_since is None:
        watch.silent_since = s
    if s - watch.silent_since >= DEAD_AIR_S and s >= watch.rest_until:
        watch.silent_since = None
        if watch.unanswered >= MAX_UNANSWERED:
            if not watch.deaf_warned:
                watch.deaf_warned = True
                core.warn("the room meter hears nothing after two tracks were brought in: the "
                          "dead-air guard stops acting until it hears the music (check which "
                          "speaker plays)")
                core.log("dead_air_guard_paused")
            return None
        watch.unanswered += 1
        watch.rest_until = s + REST_S
        return "dead_air"
    return None


VOLUME_STEP_PCT = 5.0  # a sink volume moved this much was changed by someone
VOLUME_WARN_EVERY_S = 10.0  # one warning per change, not one per step of a slow slide


def _speaker_warnings(core, watch: Watch, s: float) -> None:
    if watch.muted and not watch.warned_muted:
        core.warn("SPEAKER MUTED: the room hears nothing (the sound server's mute is on)")
        core.log("speaker", muted=True, volume_pct=watch.volume_pct)
    elif watch.muted is False and watch.warned_muted:
        core.warn("the speaker is unmuted")
        core.log("speaker", muted=False, volume_pct=watch.volume_pct)
    if watch.muted is not None:
        watch.warned_muted = watch.muted
    volume = watch.volume_pct
    if volume is None:
        return
    moved = watch.last_volume is not None and abs(volume - watch.last_volume) >= VOLUME_STEP_PCT
    if moved and s - watch.volume_warned_at >= VOLUME_WARN_EVERY_S:
        core.warn(f"the speaker volume was changed to {volume:.0f}% "
                  f"(it was {watch.last_volume:.0f}%)")
        core.log("speaker", muted=watch.muted, volume_pct=round(volume, 1))
        watch.volume_warned_at = s
    if watch.last_volume is None or moved:
        watch.last_volume = volume


def guard(core, watch: Watch, reading, s: float, write) -> None:
    """Take one reading; on dead air, bring the next track with a warning (``write`` logs)."""
    if listen(core, watch, reading, s) != "dead_air":
        return
    from soundscape.engine.commands import Action, Command

    cur = core.music.current()
    title = cur.title if cur is not None else "the music"
    write("dead_air", path=str(cur.path) if cur else None, silent_s=DEAD_AIR_S,
          position_s=round(cur.position_s(s), 2) if cur else None)
    result = core.handle(Command(Action.SKIP, by="dead-air guard", source="engine"), s)
    core.warn(f"DEAD AIR: the room heard nothing for {DEAD_AIR_S:.0f} s during {title}; "
              + ("the next track fades in" if result.ok else
                 f"nothing else to play ({result.reason})"))
