"""Times as clinicians and players write them: ``4:05``, ``1:02:05``, ``0:03.5``, ``-0:12``."""

from __future__ import annotations


def clock(seconds: float, tenths: bool = False) -> str:
    """``m:ss``, or ``h:mm:ss`` from an hour; a leading ``-`` when negative.

    With ``tenths`` a non-zero tenth of a second is added (``0:09.4``), for lengths that differ
    by less than a second.
    """
    sign = "-" if seconds < 0 else ""
    if tenths:
        whole, fraction = divmod(round(abs(seconds) * 10), 10)
    else:
        whole, fraction = round(abs(seconds)), 0
    hours, rest = divmod(int(whole), 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
    return sign + text + (f".{fraction}" if fraction else "")
