"""The engine thread's inbox: commands on their way to it, and what wakes it.

Any thread may ``send`` a command and wait for its result; libVLC's threads ``put`` deck events,
which only wake the engine (the tick that follows reads each deck's status). A command the engine
thread has not taken when the sender stops waiting is withdrawn, so it is never carried out later:
a facilitator who taps again must not get it twice.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field
from typing import Callable

from soundscape.engine.api import EngineTimeout
from soundscape.engine.commands import Command, CommandResult
from soundscape.engine.state import State


@dataclass
class Pending:
    """A sent command: carried out once by the engine thread, or withdrawn and never."""

    command: Command
    done: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    taken: bool = False  # the engine thread has begun carrying it out
    withdrawn: bool = False  # the sender stopped waiting before that
    result: tuple[CommandResult, State] | None = None

    def carry_out(self, execute: Callable[[Command], tuple[CommandResult, State]]) -> None:
        with self.lock:
            if self.withdrawn:
                return
            self.taken = True
        self.result = execute(self.command)
        self.done.set()


@dataclass(frozen=True)
class Told:
    """A warning from outside the engine (the room's announcement on the LAN) for every phone."""

    message: str


class Inbox:
    def __init__(self):
        self._queue: queue.Queue = queue.Queue()

    def put(self, item) -> None:
        """A deck event (or None, to wake the thread): never blocks."""
        self._queue.put(item)

    def send(self, command: Command, timeout_s: float) -> tuple[CommandResult, State]:
        """Wait up to ``timeout_s`` for the engine thread to carry ``command`` out."""
        pending = Pending(command)
        self._queue.put(pending)
        if pending.done.wait(timeout_s):
            return pending.result
        with pending.lock:
            if not pending.taken:
                pending.withdrawn = True
                raise EngineTimeout("the player did not answer in time and nothing was done; "
                                    "try again")
        raise EngineTimeout("the player is slow to carry out the command; look at the state "
                            "before trying again")

    def get(self, timeout_s: float | None):
        """The next item, waiting up to ``timeout_s`` (0: only what is there); None if none."""
        try:
            return self._queue.get(timeout=timeout_s) if timeout_s else self._queue.get_nowait()
        except queue.Empty:
            return None
