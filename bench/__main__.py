"""Runs every benchmark in turn and writes docs/benchmarks.md.

`python -m bench` runs all; `python -m bench latency gaps` runs some and writes the page with
only those (for development). Each bench has a time budget; the whole run fits in about 25 minutes
on two cores (the 2,000-track analysis and the MPD transitions take 10 of them).
"""

from __future__ import annotations

import importlib
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

from bench.kit import ROOT, Section, log
from bench.report import render

# (module, budget in seconds): run in this order, one at a time, so none disturbs another.
BENCHES = [("latency", 110), ("gaps", 60), ("mpd_gaps", 300), ("fades", 120), ("timing", 90),
           ("cost", 170), ("scale", 90), ("library", 360), ("soak", 330), ("snapcast", 150)]
OUTPUT = ROOT / "docs" / "benchmarks.md"


def main(argv: list[str]) -> int:
    chosen = [name for name, _ in BENCHES if not argv or name in argv]
    unknown = set(argv) - {name for name, _ in BENCHES}
    if unknown:
        print(f"unknown bench: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    started = time.time()
    sections: list[Section] = []
    failed = []
    budget = dict(BENCHES)
    with tempfile.TemporaryDirectory(prefix="soundscape-bench-") as tmp:
        os.chmod(tmp, 0o755)  # the VLC baseline runs as nobody and must read the test files
        for name in chosen:
            log(f"{name}: starting (budget {budget[name]} s)")
            t0 = time.monotonic()
            try:
                section = importlib.import_module(f"bench.{name}").run(Path(tmp) / name)
            except Exception as exc:  # noqa: BLE001 - one broken bench must not hide the others
                traceback.print_exc()
                failed.append(name)
                section = Section(name, "", ["error"], [[f"this bench failed: {exc}"]])
            section.elapsed_s = time.monotonic() - t0
            log(f"{name}: done in {section.elapsed_s:.0f} s")
            sections.append(section)
    total_s = time.time() - started
    OUTPUT.write_text(render(sections, total_s, started))
    log(f"wrote {OUTPUT.relative_to(ROOT)} ({total_s / 60:.1f} min)")
    if failed:
        log(f"failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
