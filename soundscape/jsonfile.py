"""JSON files written atomically (temp file + rename): a crash or a reader never sees half a file."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def write_json_atomic(path: Path, data, *, fsync: bool = False, **dump_kw) -> None:
    """Write ``data`` to ``path`` atomically; ``fsync`` also survives a power cut (checkpoints)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, **dump_kw)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def read_json_versioned(path: Path, version: int, **expected) -> dict:
    """The ``files`` of a versioned cache file, or {} when missing, unreadable or outdated."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != version:
        return {}
    if any(data.get(key) != value for key, value in expected.items()):
        return {}
    files = data.get("files")
    return files if isinstance(files, dict) else {}
