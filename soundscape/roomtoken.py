"""The room's lasting token: made once, kept in the state folder, used by every start of serve.

A phone that joined (its cookie holds the token) stays joined through crashes, restarts, reboots
and updates, because every start of ``soundscape serve`` reads the same token. The file
``$XDG_STATE_HOME/soundscape/token`` is readable by its owner only (0600); ``soundscape token
--rotate`` replaces it, after which every phone must open the new link once.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from soundscape import paths
from soundscape.errors import SoundscapeError

_VALID = re.compile(r"[A-Za-z0-9_-]{16,200}")


def default_path() -> Path:
    return paths.state_dir() / "token"


def _write_new(path: Path) -> str:
    """A fresh 128-bit token, written owner-only and atomically (a crash leaves the old one)."""
    token = secrets.token_urlsafe(16)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(token + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return token


def load(path: Path | None = None) -> tuple[str, bool]:
    """The room's token and whether it was just made (the file did not exist)."""
    path = path or default_path()
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        try:
            return _write_new(path), True
        except OSError as exc:
            raise SoundscapeError(f"{path}: cannot save the room's token: "
                                  f"{exc.strerror or exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SoundscapeError(f"{path}: cannot read the room's token: "
                              f"{getattr(exc, 'strerror', None) or exc}") from None
    if not _VALID.fullmatch(text):
        raise SoundscapeError(f"{path}: not a soundscape token (16 or more letters, digits, - or "
                              "_); remove it, or run soundscape token --rotate, to make a new one")
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)  # the token is the room's key: nobody else on the box may read it
    return text, False


def rotate(path: Path | None = None) -> str:
    """Replace the room's token: every phone must join again with the new link."""
    path = path or default_path()
    try:
        return _write_new(path)
    except OSError as exc:
        raise SoundscapeError(f"{path}: cannot save the room's token: "
                              f"{exc.strerror or exc}") from None
