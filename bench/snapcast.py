"""Several speakers through Snapcast: control-to-audible latency at the default buffer and at a
small one, and the offset between two clients, side by side with the direct PulseAudio output."""

from __future__ import annotations

import shutil
import time
from contextlib import ExitStack
from pathlib import Path

import numpy as np

from bench import analysis
from bench.kit import Recorder, Section, bench_sink, fmt, log, pct, write_tone
from soundscape.engine.outputs import open_output
from soundscape.engine.snapcast import SnapcastSettings
from soundscape.testing.snapcast import Snapcast

FREQ_HZ = 1000.0  # 10 ms windows hold exactly 10 cycles
WINDOW_S = 0.01
CHANGES = 16
SPACING_S = 1.5  # between gain changes: longer than any buffer measured, so none overlaps
GAINS = (1.0, 0.5)  # -6 dB steps, sent straight to the deck (no engine slew)
BUFFERS_MS = (1000, 200)


def _toggle(deck, recs: dict[str, Recorder]) -> list[tuple[float, int]]:
    """Play the tone and step its gain CHANGES times; (monotonic time, direction) of each."""
    deck.play()
    time.sleep(2.5)  # through any buffer, to a steady level
    requests = []
    for i in range(CHANGES):
        gain = GAINS[(i + 1) % 2]
        requests.append((time.monotonic(), -1 if gain < GAINS[i % 2] else 1))
        deck.set_gain(gain)
        time.sleep(SPACING_S)
    return requests


def _latencies(rec: Recorder, requests) -> list[float | None]:
    env, hop_s = analysis.tone_envelope(rec.samples, FREQ_HZ, WINDOW_S)
    return [analysis.change_latency_s(env, hop_s, WINDOW_S, t - rec.start_s, d, search_s=1.45)
            for t, d in requests]


def _direct(work: Path, tone: Path) -> dict:
    with bench_sink("bench-snap-direct") as sink, Recorder(device=f"{sink}.monitor") as rec:
        output = open_output("pulse", sink)
        try:
            deck = output.make_deck("music", lambda event: None)
            deck.load(tone, 0.0, GAINS[0])
            requests = _toggle(deck, {"direct": rec})
            said_s = output.latency_s
        finally:
            output.close()
    return {"direct": _latencies(rec, requests), "said": said_s}


def _snapcast(work: Path, tone: Path, buffer_ms: int) -> dict:
    folder = work / f"snap-{buffer_ms}"
    folder.mkdir(parents=True)
    with ExitStack() as stack:
        sinks = {n: stack.enter_context(bench_sink(f"bench-snap-{buffer_ms}-{n}"))
                 for n in ("a", "b")}
        snap = Snapcast(folder, sinks, buffer_ms=buffer_ms)
        stack.callback(snap.close)
        output = open_output("snapcast", str(snap.fifo), snapcast=SnapcastSettings(
            control=f"127.0.0.1:{snap.control_port}", buffer_s=buffer_ms / 1000))
        stack.callback(output.close)
        deadline = time.monotonic() + 10
        while sum(c["connected"] for c in output.speakers()[1]) < 2:
            if time.monotonic() > deadline:
                raise RuntimeError("the two snapclients did not connect")
            time.sleep(0.1)
        recs = {n: stack.enter_context(Recorder(device=f"{sink}.monitor"))
                for n, sink in sinks.items()}
        deck = output.make_deck("music", lambda event: None)
        deck.load(tone, 0.0, GAINS[0])
        requests = _toggle(deck, recs)
        said_s = output.heard_latency_s
    for rec in recs.values():
        rec.__exit__(None, None, None)
    return {**{n: _latencies(rec, requests) for n, rec in recs.items()}, "said": said_s}


def run(work: Path) -> Section:
    work.mkdir(parents=True, exist_ok=True)
    if not (shutil.which("snapserver") and shutil.which("snapclient")):
        raise RuntimeError("snapserver and snapclient are not installed (make bench installs "
                           "them)")
    tone = write_tone(work / "tone-1000.wav", FREQ_HZ, 60.0, 0.5)
    log("snapcast: direct PulseAudio output")
    runs = [("direct PulseAudio output (pulse)", None, _direct(work, tone))]
    for buffer_ms in BUFFERS_MS:
        log(f"snapcast: Snapcast, buffer {buffer_ms} ms, two clients")
        runs.append((f"Snapcast 0.26, buffer {buffer_ms} ms, two snapclients", buffer_ms,
                     _snapcast(work, tone, buffer_ms)))
    rows, headline = [], []
    for label, buffer_ms, found in runs:
        clients = [k for k in found if k != "said"]
        heard = [x for k in clients for x in found[k] if x is not None]
        total = sum(len(found[k]) for k in clients)
        offsets = [abs(a - b) * 1000 for a, b in zip(found.get("a", []), found.get("b", []))
                   if a is not None and b is not None]
        rows.append([label, f"{len(heard)}/{total}", fmt(pct(heard, 50) * 1000, 1),
                     fmt(pct(heard, 95) * 1000, 1), fmt(max(heard) * 1000, 1),
                     fmt(found["said"] * 1000, 0),
                     fmt(float(np.median(offsets)), 2) if offsets else "n/a",
                     fmt(max(offsets), 2) if offsets else "n/a"])
        if buffer_ms is not None:
            headline.append([f"change heard through Snapcast (buffer {buffer_ms} ms), p50 ms "
                             "(vs direct pulse)", fmt(pct(heard, 50) * 1000, 1),
                             rows[0][2], "n/a"])  # a buffer by design: no ratio to read
            headline.append([f"offset between two Snapcast clients (buffer {buffer_ms} ms), "
                             "max ms", fmt(max(offsets), 2), "n/a", "n/a"])
    method = (
        f"A {FREQ_HZ:g} Hz tone (0.5 full scale) on one libVLC deck; its gain stepped "
        f"{CHANGES} times between {GAINS[0]:g} and {GAINS[1]:g} (-6 dB), {SPACING_S:g} s "
        "apart, straight to the deck (`set_gain`, no engine slew: the output's own delay). "
        "Direct: the deck on a null sink of the bench's own (`--output pulse`). Snapcast: "
        "`--output snapcast` into snapserver 0.26 (pipe source 48000:16:2, flac, loopback ports "
        "of its own, the buffer shown), two snapclients (`--player pulse`) each on a null sink "
        "of its own, both recorded. Heard = from just before the gain is set to the END of the "
        "first 10 ms window (1 ms hop) more than 1 dB from the level before, in that direction. "
        "'said' is the output's `heard_latency_s` (the state's `output_latency_s`), what the "
        "page shows. Offset = the difference "
        "between the two clients' heard times for the same change.")
    return Section("Several speakers (Snapcast)", method,
                   ["output", "detected", "heard p50 ms", "p95 ms", "max ms", "said ms",
                    "offset between clients p50 ms", "max ms"], rows, headline=headline)
