"""Library analysis: a 2,000-track library measured cold and warm by `soundscape analyze`, against
loudgain and ffmpeg's ebur128 filter on the same files: files/s, real time, and agreement."""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from bench.kit import RATE, SOUNDSCAPE, Section, fmt, isolated_env, log

LIBRARY = 2000  # short tracks in the library, copies of BASES distinct signals
BASES = 50
SHORT_S = (5.0, 11.0)  # short enough that today's analyser does the 2,000 inside the budget
LONG = 5
LONG_S = (240.0, 300.0)
SUBSET = 200  # the first 200 of the library (4 copies of each signal) for the baselines
TIMEOUT_S = 480
# Encoders by extension; a signal's format is fixed by its number, so every folder has the mix.
ENCODERS = {".mp3": ["-c:a", "libmp3lame", "-q:a", "2"],
            ".m4a": ["-c:a", "aac", "-b:a", "160k"],
            ".opus": ["-c:a", "libopus", "-b:a", "128k"],
            ".flac": ["-c:a", "flac", "-sample_fmt", "s16"]}
FORMATS = list(ENCODERS)


def _blocks(seed: int, duration_s: float, block_s: float = 10.0):
    """A stereo float32 signal in blocks: 2-3 tones and noise, a quieter passage (so the gates
    matter), 20 dB of spread in level; every fifth signal has a loud tone at a quarter of the
    rate, whose peaks fall between samples (true peak 3 dB above the sample peak)."""
    rng = np.random.default_rng(seed)
    tones = [(rng.uniform(80, 3000), rng.uniform(0.05, 0.25), rng.uniform(0.2, 0.8),
              rng.uniform(0, 2 * np.pi)) for _ in range(int(rng.integers(2, 4)))]
    noise_rms = rng.uniform(0.003, 0.03)
    quiet_from = rng.uniform(0.2, 0.6) * duration_s
    quiet_to = quiet_from + rng.uniform(0.15, 0.3) * duration_s
    quiet_gain = 10 ** (rng.uniform(-20, -8) / 20)
    isp = 0.55 if seed % 5 == 0 else 0.0
    gain = 10 ** (rng.uniform(-14, 2) / 20) * (0.5 if isp else 1.0)
    total = round(duration_s * RATE)
    for start in range(0, total, int(block_s * RATE)):
        t = np.arange(start, min(total, start + int(block_s * RATE))) / RATE
        out = np.zeros((len(t), 2))
        for freq, amp, pan, phase in tones:
            s = amp * np.sin(2 * np.pi * freq * t + phase)
            out[:, 0] += s * pan
            out[:, 1] += s * (1 - pan)
        out += rng.normal(0, noise_rms, out.shape)
        ramp = np.clip(np.minimum(t - quiet_from, quiet_to - t) / 0.05, 0, 1)
        out *= (1 - ramp * (1 - quiet_gain))[:, None] * gain
        if isp:
            out += (isp * np.sin(np.pi / 2 * np.arange(start, start + len(t)) + np.pi / 4))[:, None]
        edge = np.clip(np.minimum(t, duration_s - t) / 0.005, 0, 1)  # 5 ms edges, no clicks
        yield np.clip(out * edge[:, None], -0.99, 0.99).astype("<f4")


def _encode(path: Path, seed: int, duration_s: float) -> Path:
    proc = subprocess.Popen(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "f32le",
                             "-ar", str(RATE), "-ac", "2", "-i", "pipe:0",
                             *ENCODERS[path.suffix], str(path)],
                            stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    for block in _blocks(seed, duration_s):
        proc.stdin.write(block.tobytes())
    proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError(f"ffmpeg could not encode {path.name}: {proc.stderr.read().decode()}")
    return path


def _make(work: Path) -> tuple[list[Path], list[Path], dict[Path, float]]:
    """The library (LIBRARY copies of BASES encoded signals in folders of 50, each file with
    its own path and mtime, since caches key on path, size and mtime) and the long tracks."""
    rng = np.random.default_rng(1)
    bases = [(work / "bases" / f"base-{i:02d}{FORMATS[i % 4]}", 100 + i, rng.uniform(*SHORT_S))
             for i in range(BASES)]
    longs = [(work / "long" / f"long-{i}{FORMATS[i % 4]}", 200 + i, rng.uniform(*LONG_S))
             for i in range(LONG)]
    for folder in ("bases", "long"):
        (work / folder).mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        list(pool.map(lambda job: _encode(*job), longs + bases))
    duration = {path: d for path, _, d in longs}
    library = []
    stamp_ns = time.time_ns() - LIBRARY * 10**9
    for j in range(LIBRARY):
        source, _, d = bases[j % BASES]
        name = f"{j % 50 + 1:02d} track {j:04d}{source.suffix}"
        target = work / "library" / f"album-{j // 50:02d}" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        os.utime(target, ns=(stamp_ns + j * 10**9, stamp_ns + j * 10**9))
        library.append(target)
        duration[target] = d
    return library, [p for p, _, _ in longs], duration


def _timed(cmd: list[str], env: dict | None = None) -> tuple[subprocess.CompletedProcess, float,
                                                            float]:
    """Run ``cmd``: its result, wall seconds and CPU seconds (user + system, its children too)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=TIMEOUT_S,
                          check=False)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return done, wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _forget(folder: Path, env: dict) -> None:
    """Cold again: no cache beside the tracks, none in the private XDG_CACHE_HOME."""
    for cache in folder.rglob(".soundscape-loudness.json"):
        cache.unlink()
    shutil.rmtree(env["XDG_CACHE_HOME"], ignore_errors=True)


def _ours(folder: Path, env: dict) -> tuple[dict, float, float]:
    """``soundscape analyze --json <folder>``: {path: (lufs, dbtp, error)}, wall s, CPU s."""
    done, wall, cpu = _timed([SOUNDSCAPE, "analyze", "--json", str(folder)], env)
    try:
        entries = json.loads(done.stdout)
    except json.JSONDecodeError:
        raise RuntimeError(f"soundscape analyze (exit {done.returncode}) printed no JSON: "
                           f"{done.stderr[-400:]}") from None
    return ({Path(e["path"]).resolve(): (e.get("lufs"), e.get("true_peak_dbtp"), e.get("error"))
             for e in entries}, wall, cpu)


def _loudgain(files: list[Path]) -> tuple[dict, float, float]:
    """``loudgain -q -k -s s -O`` (measure only, tab-separated list) on all files at once."""
    done, wall, cpu = _timed(["loudgain", "-q", "-k", "-s", "s", "-O", *map(str, files)])
    lines = [line.split("\t") for line in done.stdout.splitlines() if "\t" in line]
    if not lines or lines[0][0] != "File":
        raise RuntimeError(f"loudgain printed no list (exit {done.returncode}): "
                           f"{done.stderr[-400:]}")
    col = {name: i for i, name in enumerate(lines[0])}
    found = {}
    for row in lines[1:]:
        lufs = float(row[col["Loudness"]].split()[0])
        found[Path(row[0]).resolve()] = (lufs, float(row[col["True_Peak_dBTP"]].split()[0]), None)
    return found, wall, cpu


_SUMMARY = re.compile(r"Summary:.*?I:\s+(-?[\d.]+|-inf) LUFS.*?Peak:\s+(-?[\d.]+|-inf) dBFS",
                      re.DOTALL)


def _ffmpeg(files: list[Path]) -> tuple[dict, float, float]:
    """``ffmpeg -nostats -i f -af ebur128=peak=true -f null -``, one process per file as a
    script would; its summary gives loudness and true peak to 0.1."""
    found, wall, cpu = {}, 0.0, 0.0
    for path in files:
        done, w, c = _timed(["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-af",
                             "ebur128=peak=true", "-f", "null", "-"])
        wall, cpu = wall + w, cpu + c
        match = _SUMMARY.search(done.stderr)
        found[path.resolve()] = ((float(match[1]), float(match[2]), None) if match else
                                 (None, None, f"no summary (exit {done.returncode})"))
    return found, wall, cpu


def _row(tool: str, files: str, found: dict, wall: float, cpu: float, duration: dict) -> list:
    ok = [p for p, (lufs, _, err) in found.items() if err is None and lufs is not None]
    audio_s = sum(duration[p] for p in ok)
    return [tool, files, len(found), f"{len(ok)} / {len(found) - len(ok)}", fmt(audio_s / 60),
            fmt(wall, 1), fmt(cpu, 1), fmt(len(found) / wall, 1), fmt(audio_s / wall, 0)]


def _agreement(name: str, a: dict, b: dict) -> list:
    both = [p for p in a if p in b and a[p][2] is None and b[p][2] is None
            and a[p][0] is not None and b[p][0] is not None]
    if not both:
        return [name, 0, "n/a", "n/a", "n/a"]
    dl = np.array([abs(a[p][0] - b[p][0]) for p in both])
    dp = np.array([abs(a[p][1] - b[p][1]) for p in both])
    return [name, len(both), fmt(dl.max(), 2), fmt(dl.mean(), 3), fmt(dp.max(), 2)]


def _failures(found: dict) -> str:
    by_ext: dict[str, list] = {}
    for path, (_, _, err) in found.items():
        if err is not None:
            by_ext.setdefault(path.suffix, []).append(err)
    return "; ".join(f"{len(errs)} {ext} ({errs[0]!r})" for ext, errs in sorted(by_ext.items()))


def run(work: Path) -> Section:
    work.mkdir(parents=True, exist_ok=True)
    for tool in ("ffmpeg", "loudgain"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is not installed (make bench installs it with apt-get)")
    log(f"library: encoding {BASES} signals and {LONG} long tracks, {LIBRARY} copies")
    t0 = time.monotonic()
    library, longs, duration = _make(work)
    made_s = time.monotonic() - t0
    env = isolated_env(work / "home")
    lib_dir, long_dir = library[0].parent.parent, longs[0].parent
    subset = library[:SUBSET]
    short_desc = f"{LIBRARY} short ({SHORT_S[0]:g}-{SHORT_S[1]:g} s)"
    long_desc = f"{LONG} long ({LONG_S[0] / 60:g}-{LONG_S[1] / 60:g} min)"

    log(f"library: soundscape analyze, cold, {LIBRARY} tracks")
    _forget(lib_dir, env)
    ours, wall, cpu = _ours(lib_dir, env)
    rows = [_row("`soundscape analyze`, cold", short_desc, ours, wall, cpu,
                 duration)]
    cold_rate = len(ours) / wall
    log("library: soundscape analyze, warm")
    before = {c: c.stat().st_mtime_ns for c in lib_dir.rglob(".soundscape-loudness.json")}
    warm, wall, cpu = _ours(lib_dir, env)
    rewritten = [c for c in lib_dir.rglob(".soundscape-loudness.json")
                 if before.get(c) != c.stat().st_mtime_ns]
    rows.append(_row("`soundscape analyze`, warm (all cached)", short_desc, warm,
                     wall, cpu, duration))
    rows[-1][-1] = "n/a (nothing decoded)"
    log("library: soundscape analyze, cold, long tracks")
    _forget(long_dir, env)
    ours_long, wall, cpu = _ours(long_dir, env)
    rows.append(_row("`soundscape analyze`, cold", long_desc, ours_long, wall, cpu, duration))
    ours_long_rtf = sum(duration[p] for p, v in ours_long.items() if v[2] is None) / wall

    baselines = {}
    for name, tool, fn in (("loudgain", "`loudgain -q -k -s s -O` (libebur128)", _loudgain),
                           ("ffmpeg", "`ffmpeg -af ebur128=peak=true`, one process a file",
                            _ffmpeg)):
        log(f"library: {name} on {SUBSET} tracks and the long ones")
        short, wall, cpu = fn(subset)
        rows.append(_row(tool, f"the first {SUBSET} of those", short, wall, cpu,
                         duration))
        rate = len(short) / wall
        long_found, wall, cpu = fn(longs)
        rows.append(_row(tool, long_desc, long_found, wall, cpu, duration))
        long_rtf = sum(duration[p] for p, v in long_found.items() if v[2] is None) / wall
        baselines[name] = ({**short, **long_found}, rate, long_rtf)

    mine = {p.resolve(): ours[p.resolve()] for p in subset} | ours_long
    agree = [_agreement("soundscape vs loudgain", mine, baselines["loudgain"][0]),
             _agreement("soundscape vs ffmpeg ebur128", mine, baselines["ffmpeg"][0]),
             _agreement("loudgain vs ffmpeg ebur128 (the two references)",
                        baselines["loudgain"][0], baselines["ffmpeg"][0])]
    header = ("| compared | files | max abs diff LU | mean abs diff LU | "
              "max abs diff true peak dB |")
    notes = ["\n".join([header, "|---|---|---|---|---|"]
                       + ["| " + " | ".join(map(str, r)) + " |" for r in agree])]
    failed = _failures(ours) + ("; " if _failures(ours_long) else "") + _failures(ours_long)
    if failed:
        notes.append(f"soundscape could not measure: {failed}. Failed files count in files/s "
                     "(each took its time) but not in the minutes of audio or the real-time "
                     "factor; the agreement leaves them out.")
    if rewritten or len(before) != LIBRARY // 50:
        notes.append(f"The warm run was not all cached: {len(before)} of {LIBRARY // 50} folders "
                     f"had a cache after the cold run, and the warm run rewrote {len(rewritten)} "
                     "(it measured files again: was the analysis method changed between the "
                     "two runs?).")
    lg = baselines["loudgain"]
    headline = [
        [(f"loudness analysis, files/s, cold (soundscape: {LIBRARY} tracks; loudgain: {SUBSET} "
          "of them; higher is better)"), fmt(cold_rate, 1), fmt(lg[1], 1),
         fmt(cold_rate / lg[1], 2)],
        [f"loudness analysis, x real time, {long_desc} (vs loudgain; higher is better)",
         fmt(ours_long_rtf, 0), fmt(lg[2], 0), fmt(ours_long_rtf / lg[2], 2)],
        ["integrated loudness, max abs difference from loudgain, LU", agree[0][2], "n/a", "n/a"],
    ]
    method = (
        f"{BASES} stereo 44.1 kHz signals of {SHORT_S[0]:g}-{SHORT_S[1]:g} s (2-3 tones and "
        "noise, a quieter passage, 20 dB of spread in level; every fifth with a loud tone at a "
        "quarter of the rate, whose true peak lies 3 dB above its sample peak) are encoded "
        "with ffmpeg in turn as MP3 (LAME V2), M4A (AAC 160k), Opus (128k) and FLAC, then "
        f"copied into a {LIBRARY}-track library (folders of 50; every file its own path and "
        f"mtime, since caches key on path, size and mtime); {LONG} long tracks of "
        f"{LONG_S[0] / 60:g}-{LONG_S[1] / 60:g} min in the same four formats lie apart. "
        "Cold: no `.soundscape-loudness.json` beside the tracks and an empty private "
        "XDG_CACHE_HOME before `soundscape analyze --json <folder>`; warm: the same command "
        "again. The files are in the OS page cache for every tool alike (just written). "
        f"loudgain and ffmpeg measure the first {SUBSET} library tracks (4 copies of each "
        "signal, the same format mix) and the long tracks: doing all 2,000 would take them "
        "minutes more. Wall time is the whole command's (start-up included); CPU is user + "
        "system of the process and its children; x real time = minutes of audio measured per "
        "minute of wall time. Agreement compares, file by file, integrated loudness and true "
        "peak on the subset and the long tracks; ffmpeg prints both to 0.1, so differences "
        "from it below 0.05 are rounding. The tools run one at a time, single-threaded each "
        f"as they come (2 cores here). Making the files took {made_s:.0f} s.")
    return Section("Library analysis", method,
                   ["analyser", "tracks", "files", "measured / failed", "audio min", "wall s",
                    "CPU s", "files/s", "x real time"], rows, headline, notes)
