"""``soundscape doctor``: is this box ready to run the room? Each check with its fix.

Exit status 0 when nothing failed (warnings are said, not counted), 1 otherwise; it changes
nothing on the box (soundscape/doctor.py).
"""

from __future__ import annotations

import argparse

COMMAND = "doctor"
HELP = ("check the box: libVLC, decoders, sound server, speaker, room config, token, service, "
        "port, the room's name on the network; each with its fix")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--room", help="room config (default: ~/.config/soundscape/room.yaml)")


def run(args: argparse.Namespace) -> int:
    from soundscape import doctor

    findings = doctor.run_all(args.room)
    for finding in findings:
        for line in finding.lines():
            print(line)
    failed = [f.name for f in findings if f.level == "FAIL"]
    warned = [f.name for f in findings if f.level == "warn"]
    if failed:
        print(f"\n{len(failed)} of {len(findings)} checks failed: {', '.join(failed)}")
        return 1
    print(f"\nready: {len(findings)} checks"
          + (f", {len(warned)} with a warning ({', '.join(warned)})" if warned else ""))
    return 0
