"""Options shared by the subcommands that run a session (``play``, ``serve``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from soundscape.engine.checkpoint import RESUME_CHOICES
from soundscape.engine.settings import OUTPUT_KINDS


def add_session_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", choices=OUTPUT_KINDS,
                        help="audio output (default: the room config's, else auto)")
    parser.add_argument("--room", type=Path,
                        help="room config file (default: ~/.config/soundscape/room.yaml if present)")
    parser.add_argument("--device", help="output device (a PulseAudio sink or ALSA device)")
    parser.add_argument("--log-dir", type=Path, help="where to write the session log")
    parser.add_argument("--seed", type=int, help="seed for shuffled phases (as in `plan --seed`)")
    parser.add_argument("--resume", choices=RESUME_CHOICES, default="auto",
                        help="carry on an unfinished session of this playlist after a crash or "
                             "power cut (default: auto)")
