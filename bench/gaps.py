"""Transition gap: the longest silence between consecutive tracks, soundscape (crossfade 6 s and
0 s) against libVLC's own MediaListPlayer on the same kind of files and sink."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from bench import analysis
from bench.kit import (SOUNDSCAPE, Recorder, Section, bench_sink, fmt, isolated_env, log,
                       one_phase_playlist, write_tone)

THRESHOLD_DBFS = -50.0
WINDOW_S = 0.01
EDGE_DBFS = -40.0  # where the played stretch begins and ends in the recording


def _played_span(samples) -> tuple[int, int] | None:
    """Frames of the first and last 10 ms window louder than EDGE_DBFS, trimmed by 50 ms, so the
    session's own start and end are not counted as gaps."""
    x = analysis.mono(samples)
    size = int(0.01 * analysis.RATE)
    n = len(x) // size
    if n == 0:
        return None
    rms = (x[:n * size].reshape(n, size) ** 2).mean(axis=1)
    loud = (rms > 10 ** (EDGE_DBFS / 10)).nonzero()[0]
    if not len(loud):
        return None
    trim = int(0.05 * analysis.RATE)
    return loud[0] * size + trim, (loud[-1] + 1) * size - trim


def _gap(samples) -> tuple[float, float]:
    span = _played_span(samples)
    if span is None:
        return float("nan"), 0.0
    a, b = span
    return analysis.longest_quiet_s(samples[a:b], THRESHOLD_DBFS, WINDOW_S), (b - a) / analysis.RATE


def _soundscape(folder: Path, sink: str, tracks: list[Path], crossfade_s: float,
                play_s: float, name: str) -> tuple[float, float]:
    room = folder / "room.yaml"
    room.write_text("ceiling: 100%\nrise_rate: 200dB/s\n")
    home = folder / f"home-{name}"
    cmd = [SOUNDSCAPE, "play", str(one_phase_playlist(folder, name, [t.name for t in tracks],
                                             crossfade_s=crossfade_s, when_short="silence")),
           "--output", "pulse", "--device", sink, "--room", str(room), "--resume", "no",
           "--log-dir", str(home / "logs"), "--seed", "1"]
    with Recorder(device=f"{sink}.monitor") as rec:
        proc = subprocess.Popen(cmd, env=isolated_env(home), stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(play_s + 2.0)  # start-up, all tracks, and some silence after
        finally:
            proc.terminate()
            proc.wait(15)
    return _gap(rec.samples)


def _media_list_player(sink: str, tracks: list[Path], play_s: float) -> tuple[float, float]:
    import vlc

    # libpulse reads PULSE_SINK for every new stream: each track opens one, and a device set on
    # the player would apply to the first track only.
    os.environ["PULSE_SINK"] = sink
    instance = vlc.Instance(["--aout=pulse", "--no-video", "--quiet"])
    mlp = instance.media_list_player_new()
    player = instance.media_player_new()
    mlp.set_media_player(player)
    media_list = instance.media_list_new([str(t) for t in tracks])
    mlp.set_media_list(media_list)
    with Recorder(device=f"{sink}.monitor") as rec:
        time.sleep(0.3)
        mlp.play()
        time.sleep(play_s + 1.5)
        mlp.stop()
    player.release()
    mlp.release()
    instance.release()
    del os.environ["PULSE_SINK"]
    return _gap(rec.samples)


def run(work: Path) -> Section:
    folder = work
    folder.mkdir(parents=True, exist_ok=True)
    short = [write_tone(folder / f"short-{i}.wav", f, 4.0) for i, f in
             enumerate((300, 400, 500, 600, 700))]
    long_ = [write_tone(folder / f"long-{i}.wav", f, 12.0) for i, f in enumerate((300, 400, 500))]
    rows, results = [], {}
    with bench_sink(f"bench_gap_{os.getpid()}") as sink:
        log("gaps: soundscape, crossfade 6 s (3 x 12 s tracks)")
        results["xf6"] = _soundscape(folder, sink, long_, 6.0, 12 + 6 + 6, "xf6")
        log("gaps: soundscape, crossfade 0 s (5 x 4 s tracks)")
        results["xf0"] = _soundscape(folder, sink, short, 0.0, 20, "xf0")
        log("gaps: libVLC MediaListPlayer (5 x 4 s tracks)")
        results["mlp"] = _media_list_player(sink, short, 20)
    labels = {"xf6": ("soundscape play, crossfade 6 s", "3 x 12 s, 2 transitions"),
              "xf0": ("soundscape play, crossfade 0 s", "5 x 4 s, 4 transitions"),
              "mlp": ("libVLC MediaListPlayer (python-vlc)", "5 x 4 s, 4 transitions")}
    for key, (gap_s, span_s) in results.items():
        rows.append([labels[key][0], labels[key][1], fmt(span_s), fmt(gap_s * 1000)])
    base = results["mlp"][0]
    headline = [
        ["longest gap between tracks, ms (crossfade 0 s vs MediaListPlayer)",
         fmt(results["xf0"][0] * 1000), fmt(base * 1000),
         fmt(results["xf0"][0] / base, 2) if base else "n/a"],
        ["longest gap between tracks, ms (crossfade 6 s vs MediaListPlayer)",
         fmt(results["xf6"][0] * 1000), fmt(base * 1000),
         fmt(results["xf6"][0] / base, 2) if base else "n/a"],
    ]
    method = (
        "Tone tracks (a different frequency each, 0.5 full scale, 5 ms edges) play on a null sink "
        "of the bench's own, recorded from its monitor. soundscape: `soundscape play --output "
        "pulse --device <sink>` with one phase listing the tracks, level 100 % under a room "
        "ceiling of 100 %. Baseline: a python-vlc `MediaListPlayer` on the same files and sink. "
        "The played stretch runs from the first to the last 10 ms window above -40 dBFS, 50 ms "
        "trimmed at each end; the gap is the longest stretch covered by 10 ms windows (one "
        f"starting at every frame) quieter than {THRESHOLD_DBFS:g} dBFS. 0 ms means no 10 ms "
        "window anywhere in the stretch was that quiet.")
    return Section("Transition gap", method,
                   ["player", "tracks", "played stretch s", "longest gap ms"], rows, headline)
