"""Reading the playlist's ``cues``: silent reminders for the facilitators, timed on the arc.

Each cue is ``{at, text}``. ``at`` is a session time (``20m``), a time after the dose mark
(``dose+20m``) or after a phase began (``peak+5m``); the names are checked against the phases and
the medicine block when the playlist is loaded, so a typo never waits for the session to surface.
"""

from __future__ import annotations

from yaml.nodes import Node, SequenceNode

from soundscape.config import values
from soundscape.config.yamlnodes import Report, is_bare, mapping, scalar, text
from soundscape.playlist.medicine import close_name_hint
from soundscape.playlist.model import Cue, Medicine, Where

CUE_KEYS = ("at", "text")
MAX_CUE_CHARS = 200  # what a phone's banner shows in full
DOSE = "dose"


def _where(node: Node) -> Where:
    return Where(node.start_mark.line + 1, node.start_mark.column + 1)


def _at(node: Node, names: list[str], medicine: Medicine | None | bool,
        report: Report) -> tuple[str, str, float, str | None] | None:
    """(as written, kind, offset_s, phase) of an ``at``, or None after reporting."""
    node = scalar(node, "at", report)
    if node is None:
        return None
    written = node.value.strip()
    ref, _, offset_text = written.rpartition("+") if "+" in written else ("", "", written)
    if not ref and written in names + [DOSE]:
        ref, offset_text = written, "0s"  # 'peak' alone: as the phase begins
    offset_what = f"the time after '{ref}'" if ref else "at"
    try:
        offset = values.parse_duration(offset_text.strip(), offset_what, is_bare(node) and not ref)
    except ValueError as exc:
        hint = "" if ref else "; at is a session time (20m), dose+20m or <phase>+5m"
        report.error(node, f"{exc}{hint}")
        return None
    ref = ref.strip()
    if not ref:
        return written, "session", offset, None
    if ref == DOSE:
        if medicine is None:
            report.error(node, f"'{written}' counts from the dose, and this playlist has no "
                               "medicine block to mark it; add one, or give a session time")
            return None
        return written, "dose", offset, None
    if ref not in names:
        report.error(node, f"'{written}' counts from '{ref}', which names no phase and is not "
                           f"the dose; {close_name_hint(ref, names)}")
        return None
    return written, "phase", offset, ref


def read_cues(node: Node, names: list[str], medicine: Medicine | None | bool,
              duration_s: float | None, report: Report) -> tuple[Cue, ...]:
    """The cues of ``node`` (ids c1, c2, ... in order); the broken ones are reported and left out.

    ``medicine`` is the playlist's medicine (True when the block is written but broken: its own
    problems are reported already); ``duration_s`` the planned session length, for the warning
    that a session-time cue falls after it.
    """
    if not isinstance(node, SequenceNode):
        report.error(node, "cues must be a list of {at, text}, e.g. '- {at: dose+20m, "
                           "text: Blood pressure}'")
        return ()
    cues = []
    for n, entry in enumerate(node.value, start=1):
        items = mapping(entry, CUE_KEYS, "a cue", report)
        if items is None:
            continue
        missing = [k for k in CUE_KEYS if k not in items]
        if missing:
            report.error(entry, f"a cue needs {' and '.join(missing)} "
                                "(e.g. {at: dose+20m, text: Blood pressure})")
            continue
        at = _at(items["at"][1], names, medicine, report)
        said = text(items["text"][1], "text", report)
        if said is not None:
            said = " ".join(said.split())
            if not said:
                report.error(items["text"][1], "a cue's text must not be empty")
                said = None
            elif len(said) > MAX_CUE_CHARS:
                report.error(items["text"][1], f"a cue's text must be at most {MAX_CUE_CHARS} "
                                               f"characters (this one has {len(said)})")
                said = None
        if at is None or said is None:
            continue
        written, kind, offset, phase = at
        if kind == "session" and duration_s is not None and offset > duration_s:
            report.warning(items["at"][1], f"the cue at {values.format_duration(offset)} comes "
                                           f"after the session's planned end "
                                           f"({values.format_duration(duration_s)})")
        cues.append(Cue(f"c{n}", written, kind, offset, said, phase, _where(entry)))
    return tuple(cues)
