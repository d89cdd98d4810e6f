"""Records tests/data/session-recorded.jsonl: a short real session, played by the real engine.

Run by hand (it takes about 80 s of real time), from the repository root:

    XDG_RUNTIME_DIR=/tmp/soundscape-pulse .venv/bin/python tests/data/record_session.py pulse

It writes three sine-tone WAVs and a three-phase playlist to a temporary folder, opens the session
with ``open_session`` (``pulse`` output when given, else ``none``), drives it through the engine's
command API as two facilitators would (one command refused on purpose), waits for the natural end,
and copies the log here with the temporary folder rewritten to ``/music`` so the fixture is stable.
One track is a WAV whose header promises 12 s but holds 0.5 s, so the engine logs a failed track
and a warning, as it would for a corrupt file.
"""

from __future__ import annotations

import struct
import sys
import tempfile
import time
from pathlib import Path

from soundscape.engine.commands import Action, Command
from soundscape.engine.state import Status
from soundscape.session import open_session
from soundscape.testing.audio import write_tone

HERE = Path(__file__).parent
RATE = 22050

PLAYLIST = """\
title: Recorded <test> & session
phases:
  - name: Arrival
    duration: 15s
    crossfade: 2s
    tracks:
      - file: tone-440.wav
        title: Open <sky> & sea
      - tone-550.wav
  - name: Peak
    duration: 20s
    crossfade: 2s
    tracks: [broken.wav, tone-660.wav, tone-440.wav]
  - name: Return
    duration: 12s
    crossfade: 2s
    fade_out: 3s
    tracks: [tone-550.wav]
"""


def tone(path: Path, hz: float, seconds: float, declared_s: float | None = None) -> None:
    write_tone(path, hz, seconds, amplitude=0.25, rate=RATE, channels=1)
    if declared_s is not None:  # a header that promises more audio than the file holds
        data = bytearray(path.read_bytes())
        size = int(declared_s * RATE) * 2
        data[40:44] = struct.pack("<I", size)
        data[4:8] = struct.pack("<I", size + 36)
        path.write_bytes(bytes(data))


def main(output: str) -> None:
    with tempfile.TemporaryDirectory(prefix="soundscape-rec-") as tmp:
        folder = Path(tmp)
        for hz in (440, 550, 660):
            tone(folder / f"tone-{hz}.wav", hz, 9.0)
        tone(folder / "broken.wav", 330, 0.5, declared_s=12.0)
        (folder / "session.yaml").write_text(PLAYLIST, encoding="utf-8")
        engine = open_session(folder / "session.yaml", output=output, log_dir=folder / "logs",
                              seed=7)
        try:
            def send(action, by, wait_s, **params):
                result, _ = engine.submit(Command(action, params, by=by, source="api"))
                print(f"{action.value} by {by}: {'ok' if result.ok else result.reason}")
                time.sleep(wait_s)

            send(Action.START, "Ana", 4)
            send(Action.PAUSE, "Ben", 2)
            send(Action.RESUME, "Ana", 0.5)
            send(Action.RESUME, "Ben", 2)  # refused: the music is not paused
            send(Action.SKIP, "Ben", 6)
            send(Action.SET_LEVEL, "Ana", 2, level=55)
            send(Action.HUSH, "Chloé", 3)
            send(Action.UNHUSH, "Chloé", 1)
            send(Action.EXTEND, "Ana", 0, minutes=0.5)
            deadline = time.monotonic() + 90
            while engine.snapshot().status != Status.ENDED and time.monotonic() < deadline:
                engine.wait_for_change(engine.snapshot().revision, 1.0)
        finally:
            engine.shutdown(fade=False)
        log = engine.log_path.read_text(encoding="utf-8")
        (HERE / "session-recorded.jsonl").write_text(log.replace(str(folder), "/music"),
                                                     encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "none")
