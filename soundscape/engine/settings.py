"""Room safety settings the engine enforces on every level change."""

from __future__ import annotations

from dataclasses import dataclass

# Every output a room can be given (--output, the room config's output:); outputs.py opens them.
# ``auto`` is PulseAudio when a server answers, else ALSA; ``snapcast`` plays into a Snapcast
# server's pipe (through a PulseAudio pipe sink, engine/snapcast.py); ``none`` keeps time in silence.
OUTPUT_KINDS = ("auto", "pulse", "alsa", "snapcast", "none")


@dataclass(frozen=True)
class RoomSettings:
    ceiling_pct: float = 90.0  # no level, from a playlist or a control, goes above this
    rise_db_per_s: float = 6.0  # the fastest the room level may rise
    # The room config says soundscape owns the sink (PulseAudio): its volume is kept at this and
    # put back (at the rise limit) when someone changes it. None: the sink is only watched.
    speaker_volume_pct: float | None = None
    fall_db_per_s: float = 15.0  # level drops may be faster than rises
    hush_pct: float = 25.0  # the talk level `hush` ducks the music to
    hush_fall_s: float = 2.0  # how quickly `hush` ducks
    pause_fade_s: float = 3.0  # pause fades out over this, then pauses
    stop_fade_s: float = 3.0  # "quiet now"
    fade_out_default_s: float = 60.0
    extend_default_min: float = 5.0
    skip_crossfade_s: float = 4.0  # a skip's crossfade when the phase asks for a longer one
    fault_fade_in_s: float = 1.0  # the fade-in of the track that replaces a failed one
    ambience_loop_overlap_s: float = 4.0  # two bed decks overlap by this at each loop

    def __post_init__(self):
        if not 0 < self.ceiling_pct <= 100:
            raise ValueError("ceiling_pct must be in (0, 100]")
        if self.rise_db_per_s <= 0 or self.fall_db_per_s <= 0:
            raise ValueError("rise and fall rates must be positive")
