"""``soundscape preflight``: before anyone doses, play-test every file, the output and a chime."""

from __future__ import annotations

import argparse

from soundscape.cli.progress import analysis_progress
from soundscape.config.values import parse_level, parse_number
from soundscape.engine.settings import OUTPUT_KINDS
from soundscape.errors import SoundscapeError
from soundscape.preflight import run_preflight, summary
from soundscape.room import load_room

COMMAND = "preflight"
HELP = ("before a session: decode every file (true length, cue points, loudness), check it "
        "plays in libVLC and the output device is there, and play a soft chime through it")


def _level(text: str) -> float:
    try:
        return parse_level(text, bare=parse_number(text) is not None, what="--chime-level")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("playlist", metavar="PLAYLIST", help="the session's playlist file")
    parser.add_argument("--output", choices=OUTPUT_KINDS, default=None,
                        help="where sound goes (default: the room config's, else auto: "
                             "PulseAudio when a server answers, else ALSA)")
    parser.add_argument("--device", default=None,
                        help="output device (see `soundscape devices`; default: the room "
                             "config's, else the output's default)")
    parser.add_argument("--room", metavar="FILE", default=None,
                        help="room config (default: $XDG_CONFIG_HOME/soundscape/room.yaml "
                             "when it exists)")
    parser.add_argument("--chime-level", type=_level, default=None, metavar="LEVEL",
                        help="the test chime's level, like 25%% (default: the room's "
                             "hush_level, else 25%%)")


def run(args: argparse.Namespace) -> int:
    room = load_room(args.room)  # a room file with mistakes stops here, every problem listed
    checks = run_preflight(args.playlist, output=args.output, device=args.device, room=room,
                           chime_level=args.chime_level,
                           on_check=lambda check: print(check, flush=True),
                           on_analysed=analysis_progress())
    if not checks:
        raise SoundscapeError("pre-flight made no checks")
    print(summary(checks))
    return 0 if all(c.ok for c in checks) else 1
