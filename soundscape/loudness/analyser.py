"""The background analyser: the files a session needs, decoded in a child process ahead of their turn.

Nothing has to be run before a session: ``play``, ``serve`` and ``preflight`` hand the files the
playlist needs (in the order it needs them) to a worker process, and hear each result as it comes.
The worker is a separate process at a lower CPU priority (nice 10), so decoding never takes the
engine thread's interpreter lock and never competes with playback for the CPU on a 2-core box; it
writes the same caches ``soundscape analyze`` writes (every SAVE_EVERY_S and when it stops), so a
second session of the same library starts with everything known.

Run as ``python -m soundscape.loudness.analyser``: it reads a JSON list of paths on standard input
and prints one JSON line per file (``{"path": ..., <cache entry>}``) as each is done.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from soundscape.loudness.cache import FolderCache, _lookup, from_entry, to_entry
from soundscape.loudness.meter import Measurement

SAVE_EVERY_S = 2.0  # the worker writes its caches this often (and when it stops)
STOP_WAIT_S = 1.0  # close() waits this long for the worker to save and go, then kills it
NICE = 10


class Analyser:
    """Analyse ``paths`` in a child process; ``on_result(path, measurement)`` hears each one.

    ``on_result`` is called from the analyser's reader thread. Files already cached are answered
    by the worker in milliseconds, so callers may hand over every file the playlist names.
    """

    def __init__(self, paths: Iterable[str | os.PathLike],
                 on_result: Callable[[Path, Measurement], None],
                 on_done: Callable[[str | None], None] | None = None):
        self.paths = [Path(p) for p in dict.fromkeys(os.fspath(p) for p in paths)]
        self._on_result = on_result
        self._on_done = on_done
        self._proc: subprocess.Popen | None = None
        self._reader: threading.Thread | None = None
        self._closing = threading.Lock()
        self.error: str | None = None  # why the worker could not run, if it could not

    def start(self) -> Analyser:
        env = dict(os.environ)
        package_root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH"))
                                            if p)
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "soundscape.loudness.analyser"], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True,
                encoding="utf-8", start_new_session=True)
        except OSError as exc:
            self.error = f"the analyser could not start ({exc})"
            if self._on_done is not None:
                self._on_done(self.error)
            return self
        self._reader = threading.Thread(target=self._read, name="soundscape-analyser",
                                        daemon=True)
        self._reader.start()
        return self

    def _read(self) -> None:
        """Hand the paths over and report each result; then say whether every file came back."""
        proc = self._proc
        reported = 0
        try:
            proc.stdin.write(json.dumps([os.fspath(p) for p in self.paths]))
            proc.stdin.close()
            for line in proc.stdout:
                try:
                    record = json.loads(line)
                    found = from_entry(record)
                    path = Path(record["path"])
                except (ValueError, KeyError, TypeError):
                    continue
                reported += 1
                self._on_result(path, found)
        except (OSError, ValueError):
            pass  # the worker was stopped
        finally:
            if reported < len(self.paths) and self.error is None and self._proc is not None:
                code = proc.poll()
                self.error = (f"the analyser stopped after {reported} of {len(self.paths)} "
                              f"files (exit status {code})")
            if self._on_done is not None:
                self._on_done(self.error)

    def close(self) -> None:
        """Stop the worker (it saves what it has); idempotent, safe from any thread."""
        with self._closing:
            proc, self._proc = self._proc, None
            if proc is None:
                return
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(STOP_WAIT_S)
                except (OSError, subprocess.TimeoutExpired):
                    proc.kill()
                    proc.wait()
            for stream in (proc.stdout,):
                try:
                    stream.close()
                except OSError:
                    pass

    def wait(self, timeout_s: float | None = None) -> bool:
        """Wait for every file to be reported; True when all were."""
        if self._reader is None:
            return self.error is None
        self._reader.join(timeout_s)
        return not self._reader.is_alive()


def _stop(signum, frame) -> None:
    raise SystemExit(0)


def work(paths: list[str], out) -> None:
    """The worker: each file from its folder's cache, or decoded; caches saved every 2 s."""
    caches: dict[str, FolderCache] = {}
    last_save = time.monotonic()
    try:
        for given in paths:
            try:
                found = _lookup(Path(given), caches, decode=True)
            except Exception as exc:  # noqa: BLE001 - one file must not stop the others
                found = Measurement(None, None, f"the analysis failed ({type(exc).__name__}: "
                                                f"{exc})")
            out.write(json.dumps({"path": given, **to_entry(0, 0, found)}) + "\n")
            out.flush()
            if time.monotonic() - last_save >= SAVE_EVERY_S:
                for cache in caches.values():
                    cache.save()
                last_save = time.monotonic()
    finally:
        for cache in caches.values():
            cache.save()


def main() -> int:
    signal.signal(signal.SIGTERM, _stop)
    try:
        os.nice(NICE)
    except OSError:
        pass
    try:
        paths = json.load(sys.stdin)
    except ValueError:
        return 2
    try:
        work([str(p) for p in paths], sys.stdout)
    except BrokenPipeError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
