"""``soundscape`` whose engine loop hangs, once, when the file named by ``$HANG_FLAG`` appears.

What a libVLC call that never returns does to the engine thread: the web server keeps answering,
the room is no longer steered. The flag is removed as the hang begins, so the restarted process
runs normally. Used by the box e2e test under its small supervisor.
"""

import os
import sys
import threading
from pathlib import Path

from soundscape.cli.main import main
from soundscape.engine.engine import Engine

FLAG = Path(os.environ["HANG_FLAG"])
_tick = Engine._tick


def hanging_tick(self):
    if FLAG.exists():
        FLAG.unlink()
        threading.Event().wait()  # never returns
    return _tick(self)


Engine._tick = hanging_tick
sys.exit(main(sys.argv[1:]))
