"""The single error root and the located problem type every user-facing error uses."""

from __future__ import annotations

from dataclasses import dataclass


class SoundscapeError(Exception):
    """Root of every error soundscape reports to a user (printed as ``error: ...``)."""


@dataclass(frozen=True, order=True)
class Problem:
    """One located problem in a file: 1-based line and column, like compilers and yamllint."""

    path: str
    line: int
    col: int
    message: str
    severity: str = "error"  # "error" | "warning"

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{self.path}:{self.line}:{self.col}: {prefix}{self.message}"


class PlaylistError(SoundscapeError):
    """A playlist (or room config) that cannot be used; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
