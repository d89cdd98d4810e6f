"""``soundscape devices``: list the audio devices a session can be sent to with ``--device``."""

from __future__ import annotations

import argparse
import sys

from soundscape.engine.outputs import list_devices
from soundscape.engine.settings import OUTPUT_KINDS

COMMAND = "devices"
HELP = "list audio output devices (name, then description), one per line"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # snapcast's device is the Snapcast server's FIFO, not a device to list
    kinds = [k for k in OUTPUT_KINDS if k not in ("none", "snapcast")]
    parser.add_argument("--output", choices=kinds, default="auto",
                        help="which output's devices (auto: PulseAudio when a server answers, "
                             "else ALSA)")


def run(args: argparse.Namespace) -> int:
    devices = list_devices(args.output)
    if not devices:
        print(f"no {args.output} output devices found", file=sys.stderr)
        return 1
    width = max(len(d.name) for d in devices)
    for device in devices:
        print(f"{device.name:<{width}}  {device.description}".rstrip())
    return 0
