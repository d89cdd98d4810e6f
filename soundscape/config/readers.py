"""Readers for typed values (durations, levels, gains, words) from YAML nodes.

Each reader parses the scalar's source text, reports a located problem when it is wrong, and
returns None then, so the loader can go on and find every other problem in the same run.
"""

from __future__ import annotations

from yaml.nodes import Node

from soundscape.config import values
from soundscape.config.yamlnodes import NULL_TAG, Report, is_bare, scalar


class ValueReader:
    """Value readers bound to one file's report; each returns None after reporting a problem."""

    def __init__(self, report: Report):
        self.report = report

    def duration(self, node: Node, what: str, positive: bool = False) -> float | None:
        node = scalar(node, what, self.report)
        if node is None:
            return None
        if node.tag == NULL_TAG and node.value in ("", "~"):
            self.report.error(node, f"{what} must look like 15m, 90s or 1h30m, not empty")
            return None
        try:
            seconds = values.parse_duration(node.value, what, is_bare(node))
        except ValueError as exc:
            self.report.error(node, str(exc))
            return None
        if positive and seconds <= 0:
            self.report.error(node, f"{what} must be longer than 0s")
            return None
        return seconds

    def _parsed(self, node: Node, what: str, parse) -> object | None:
        node = scalar(node, what, self.report)
        if node is None:
            return None
        try:
            return parse(node)
        except ValueError as exc:
            self.report.error(node, str(exc))
            return None

    def level(self, node: Node, what: str = "level") -> float | None:
        return self._parsed(node, what, lambda n: values.parse_level(n.value, is_bare(n), what))

    def gain(self, node: Node) -> float | None:
        return self._parsed(node, "gain", lambda n: values.parse_gain(n.value, is_bare(n)))

    def intensity(self, node: Node) -> int | None:
        """A whole number from 1 (the gentlest) to 5 (the deepest)."""
        return self._parsed(node, "intensity", lambda n: values.parse_intensity(n.value, is_bare(n)))

    def choice(self, node: Node, what: str, choices: tuple[str, ...]) -> str | None:
        return self._parsed(
            node, what, lambda n: values.parse_choice(n.value, choices, what, is_bare(n)))
