"""Hand-overs between tracks: when the next one starts and how long the crossfade runs.

The planner lays tracks out with these rules and the engine follows them in real time, so what
``soundscape plan`` prints is what the room hears. The two margins come from libVLC's behaviour
measured on the null sink (docs/libvlc.md).
"""

from __future__ import annotations

END_MARGIN_S = 0.25  # libVLC applies no volume change in a file's last ~100 ms: fades end before
START_LEAD_S = 0.05  # a deck's first sample comes ~20 ms after play(): a cut starts this early


def overlap_s(crossfade_s: float, out_len_s: float, in_len_s: float) -> float:
    """The crossfade actually used between two tracks: never more than half of either."""
    return max(0.0, min(crossfade_s, out_len_s / 2, in_len_s / 2))


# A cut after a track's own fade-out starts the next track half-way through that fade (at most
# 3 s before its end): the fade spans ~36 LU (I-6 to I-42 LU), so its second half is more than
# 24 LU down, silence to a room at -23 LUFS (MPD's MixRamp overlaps where ends are quiet too).
CUT_INTO_FADE = 0.5
CUT_INTO_FADE_MAX_S = 3.0


def handover_s(crossfade_s: float, out_len_s: float, in_len_s: float,
               out_fade_s: float = 0.0) -> tuple[float, float]:
    """(lead, fade): the next track starts ``lead`` seconds before the outgoing one's end.

    With a crossfade, the fade runs for ``fade`` seconds and ends END_MARGIN_S before the end of
    the file, where libVLC still applies volume changes (measured: a change in the last 100 ms is
    never heard, and the track would be cut off at the gain it had). Without one (a cut), the next
    deck starts START_LEAD_S early, so its first sample meets the outgoing track's last; when the
    outgoing track fades out by itself (``out_fade_s``, from its analysis), the next one starts
    half-way through that fade (at most 3 s before its end): the fade's quieter half is silence
    to the room, and a cut must not leave a hole.
    """
    fade = overlap_s(crossfade_s, max(0.0, out_len_s - END_MARGIN_S), in_len_s)
    if fade > 0:
        return fade + END_MARGIN_S, fade
    into_fade = min(CUT_INTO_FADE * out_fade_s, CUT_INTO_FADE_MAX_S)
    return min(START_LEAD_S + into_fade, out_len_s), 0.0


def handover_floor_s(crossfade_s: float) -> float:
    """How much of a track must outlast its phase for the phase's end to hand over from it.

    A track that runs on past the phase's end by at least this much is faded there (its fade cut
    to what is left of it); one that ends sooner is followed by the phase's next track as usual.
    This spares the room a sliver of a new track started only to be faded out at the phase's end.
    """
    return min(crossfade_s, 1.0) / 2
