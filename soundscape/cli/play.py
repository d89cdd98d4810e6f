"""``soundscape play``: run a session headless in the terminal, with a status line and a few keys.

Keys: space pause/resume, s skip, h hush/unhush, + / - level; pressed twice: n next phase, d dose
given, b booster, q quit with a fade. With no terminal on stdin the session plays to its end and exits 0.
"""

from __future__ import annotations

import argparse
import contextlib
import select
import signal
import sys
import termios
import tty
from pathlib import Path

from soundscape.cli.options import add_session_arguments
from soundscape.engine.api import EngineAPI, EngineTimeout
from soundscape.engine.commands import Action, Command
from soundscape.engine.state import State, Status
from soundscape.timefmt import clock

COMMAND = "play"
HELP = "play a session headless in the terminal"
KEYS = ("space pause/resume · s skip · n n next phase · d d dose given · b b booster · "
        "h hush · +/- level · q q quit")
TWICE = {"n": (Action.NEXT_PHASE, "press n again for the next phase"),
         "d": (Action.DOSE, "press d again to mark the dose as given"),
         "b": (Action.BOOSTER, "press b again to mark a booster"),
         "q": (Action.FADE_OUT, "press q again to fade out and quit")}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("playlist", type=Path, help="playlist YAML file")
    add_session_arguments(parser)


def status_line(state: State) -> str:
    if state.status == Status.ENDED:
        return "session ended"
    parts = [state.status.upper()]
    if state.phase:
        held = " HELD" if state.phase.held else ""
        if state.phase.overrun_s >= 1:
            parts.append(f"{state.phase.name} +{clock(state.phase.overrun_s)} over{held}")
        else:
            parts.append(f"{state.phase.name} {clock(state.phase.remaining_s)} left{held}")
    if state.track:
        parts.append(f"♪ {state.track.title} {clock(state.track.position_s)}/"
                     f"{clock(state.track.duration_s)}")
    level = f"level {state.level:.0f}%"
    if abs(state.level - state.level_target) >= 1 and not state.ending:
        level += f"→{state.level_target:.0f}%"
    parts.append(level + (" HUSHED" if state.hushed else ""))
    if state.medicine and state.medicine["awaiting_dose"]:
        parts.append("WAITING FOR THE DOSE (d d)")
    if state.warnings:
        parts.append(f"⚠ {state.warnings[-1]}")
    return " | ".join(parts)


def key_command(key: str, state: State, armed: str) -> tuple[Command | None, str]:
    """Map a key to a command; n, d, b and q must be pressed twice (returns the new armed key)."""
    def cmd(action, **params):
        return Command(action, params, by="terminal", source="terminal")
    if key in TWICE:
        if armed != key:
            return None, key
        if key == "q":
            return cmd(Action.FADE_OUT, seconds=10.0), ""
        return cmd(TWICE[key][0]), ""
    if key == " ":
        return cmd(Action.RESUME if state.status == Status.PAUSED else Action.PAUSE), ""
    if key == "s":
        return cmd(Action.SKIP), ""
    if key == "h":
        return cmd(Action.UNHUSH if state.hushed else Action.HUSH), ""
    if key in "+=-":
        step = 5.0 if key in "+=" else -5.0
        # from the level the music returns to (not 0 while paused, nor the hush level)
        return cmd(Action.SET_LEVEL, level=max(0.0, min(100.0, state.level_return + step))), ""
    return None, ""


@contextlib.contextmanager
def _cbreak(stream):
    fd = stream.fileno()
    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def run(args: argparse.Namespace) -> int:
    from soundscape.engine import checkpoint  # the session's machinery: only when a session runs
    from soundscape.room import load_room
    from soundscape.session import open_session

    interactive = sys.stdin.isatty()
    engine = open_session(args.playlist, output=args.output, device=args.device,
                          log_dir=args.log_dir, seed=args.seed, resume=args.resume,
                          checkpoint_path=checkpoint.default_path(),
                          ask=_ask if interactive else None, room=load_room(args.room))
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    try:
        state = engine.snapshot()
        if not state.resumed:
            _wait_for_first_tracks(engine, stopping)
            _send(engine, Command(Action.START, by="terminal", source="terminal"))
        print(f"{state.title}: session log {state.extras.get('log') or '(none)'}", file=sys.stderr)
        if interactive:
            print(KEYS, file=sys.stderr)
            with _cbreak(sys.stdin):
                _loop(engine, stopping, interactive=True)
        else:
            _loop(engine, stopping, interactive=False)
    except KeyboardInterrupt:
        stopping.append(True)
    finally:
        engine.shutdown(fade=True)
        if sys.stdout.isatty():
            print()
    return 0


def _wait_for_first_tracks(engine: EngineAPI, stopping: list) -> None:
    """Start waits for the first tracks' analysis (seconds); the rest goes on in the background."""
    state = engine.snapshot()
    shown = None
    while state.analysis and state.analysis["first_pending"] and not stopping:
        line = (f"analysing the first tracks: {', '.join(state.analysis['first_pending'])} "
                f"({state.analysis['done']} of {state.analysis['total']} files done)")
        if line != shown:
            print(line, file=sys.stderr, flush=True)
            shown = line
        state = engine.wait_for_change(state.revision, 0.5)
    if state.analysis and state.analysis["done"] < state.analysis["total"]:
        left = state.analysis["total"] - state.analysis["done"]
        print(f"analysing the other {left} file{'s' if left != 1 else ''} in the background, "
              "ahead of their turn", file=sys.stderr, flush=True)


def _ask(question: str) -> bool:
    answer = input(f"{question} [Y/n] ").strip().lower()
    return answer in ("", "y", "yes")


def _send(engine: EngineAPI, command: Command) -> str:
    """Send a command; "" when done, else why not (a refusal, or an engine that did not answer)."""
    try:
        result, _ = engine.submit(command)
    except EngineTimeout as exc:
        return str(exc)
    return "" if result.ok else result.reason


def _loop(engine: EngineAPI, stopping, *, interactive: bool) -> None:
    armed, message = "", ""
    revision = 0
    shown = None
    while not stopping:
        state = engine.wait_for_change(revision, 0.5)
        revision = state.revision
        line = status_line(state) + (f" | {message}" if message else "")
        if sys.stdout.isatty():
            sys.stdout.write("\r\x1b[2K" + line[: 200])
            sys.stdout.flush()
        else:  # a log-friendly line whenever the phase or track changes
            key = (state.status, state.phase and state.phase.name, state.track and state.track.path)
            if key != shown and state.status != Status.ENDED:
                shown = key
                print(line, flush=True)
        if state.status == Status.ENDED:
            print() if sys.stdout.isatty() else print(line)
            return
        if not interactive and state.medicine and state.medicine["awaiting_dose"] \
                and state.phase and state.phase.remaining_s <= 0:
            # nobody can mark the dose without a terminal: mark it when the dose phase is due
            _send(engine, Command(Action.DOSE, by="play (no terminal)", source="terminal"))
        if interactive and select.select([sys.stdin], [], [], 0)[0]:
            key = sys.stdin.read(1)
            command, armed = key_command(key, state, armed)
            message = TWICE[armed][1] if armed else ""
            if command is not None:
                message = _send(engine, command)
