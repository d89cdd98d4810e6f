"""Reading the playlist's ``medicine`` block: the route, and the phases the dose and booster move.

The block is read after the phases, because ``dose_phase`` and ``booster_phase`` name phases: a
typo there would otherwise surface only when a facilitator taps "dose given" mid-session.
"""

from __future__ import annotations

import difflib

from yaml.nodes import Node

from soundscape.config import values
from soundscape.config.readers import ValueReader
from soundscape.config.yamlnodes import Report, mapping, text
from soundscape.playlist.model import DEFAULT_BOOSTER_EXTEND_S, ROUTES, Medicine, Phase, Where

MEDICINE_KEYS = ("route", "dose_phase", "booster", "booster_phase", "booster_extend")


def close_name_hint(written: str, names: list[str]) -> str:
    """'did you mean ...?' for a near miss of a phase name, else the list of phases."""
    close = difflib.get_close_matches(written, names, n=1)
    return f"did you mean '{close[0]}'?" if close else f"the phases are {', '.join(names)}"


def _phase_name(node: Node, what: str, names: list[str], report: Report) -> str | None:
    """A written phase name that must name one of ``names``; a near miss gets a suggestion."""
    written = text(node, what, report)
    if written is None or written in names:
        return written
    report.error(node, f"{what} '{written}' names no phase; {close_name_hint(written, names)}")
    return None


def read_medicine(node: Node, names: list[str], phases: list[Phase],
                  report: Report) -> Medicine | None:
    """The Medicine of ``node``, or None after reporting; ``names`` are the phase names in order.

    ``phases`` (the phases that were built) serve only the booster-timing warning, which is
    skipped unless every phase was built, since it adds up durations.
    """
    items = mapping(node, MEDICINE_KEYS, "medicine", report)
    if items is None:
        return None
    errors_before = len(report.problems)
    read = ValueReader(report)
    route = None
    if "route" not in items:
        report.error(node, "medicine is missing 'route'")
    else:
        route = read.choice(items["route"][1], "route", ROUTES)
    booster_at = (read.duration(items["booster"][1], "booster", positive=True)
                  if "booster" in items else None)
    extend = (read.duration(items["booster_extend"][1], "booster_extend", positive=True)
              if "booster_extend" in items else DEFAULT_BOOSTER_EXTEND_S)
    if not names:
        return None  # the phases' own problems are reported already
    dose = names[0]
    if "dose_phase" in items:
        dose = _phase_name(items["dose_phase"][1], "dose_phase", names, report)
    booster_phase = _booster_phase(items, dose, names, report)
    if dose is not None and dose == names[-1]:
        where = items["dose_phase"][1] if "dose_phase" in items else node
        report.error(where, f"dose_phase '{dose}' is the last phase; the dose mark ends it and "
                            "times the phases after it, so it needs a phase after it")
    if len(report.problems) > errors_before or route is None:
        return None
    if booster_at is not None and len(phases) == len(names):
        _booster_timing(items["booster"][1], booster_at, dose, booster_phase, phases, report)
    where = Where(node.start_mark.line + 1, node.start_mark.column + 1)
    return Medicine(route, dose, booster_phase, booster_at, extend, where)


def _booster_phase(items: dict, dose: str | None, names: list[str],
                   report: Report) -> str | None:
    """The written booster_phase (checked to follow the dose phase), else the phase after it."""
    if "booster_phase" not in items:
        if dose is None or names.index(dose) + 1 >= len(names):
            return None
        return names[names.index(dose) + 1]
    node = items["booster_phase"][1]
    booster = _phase_name(node, "booster_phase", names, report)
    if booster is not None and dose is not None and names.index(booster) <= names.index(dose):
        report.error(node, f"booster_phase '{booster}' must come after dose_phase '{dose}'")
        return None
    return booster


def _booster_timing(node: Node, booster_at_s: float, dose: str, booster_phase: str,
                    phases: list[Phase], report: Report) -> None:
    """Warn when the planned booster falls after the phase it would extend has ended."""
    fmt = values.format_duration
    names = [p.name for p in phases]
    after_dose = phases[names.index(dose) + 1: names.index(booster_phase) + 1]
    ends_s = sum(p.duration_s for p in after_dose)
    if booster_at_s >= ends_s:
        report.warning(node, f"the booster at {fmt(booster_at_s)} comes after phase "
                             f"'{booster_phase}' ends ({fmt(ends_s)} after the dose); "
                             "check booster and booster_phase")
