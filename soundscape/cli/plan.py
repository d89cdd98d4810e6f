"""``soundscape plan``: print the arc a playlist will play, phase by phase and track by track."""

from __future__ import annotations

import argparse
import dataclasses
import json

from soundscape.cli.progress import analysis_progress
from soundscape.loudness.known import known
from soundscape.playlist import load_playlist
from soundscape.schedule.plan import make_plan
from soundscape.schedule.problems import playlist_warnings
from soundscape.timefmt import clock

COMMAND = "plan"
HELP = "show when each phase starts and which tracks fill it"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("playlist", help="playlist YAML file")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed for shuffled phases; `play --seed` with the same seed agrees")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")


def _cue_marks(track) -> str:
    """Where cue points moved a track: its leading silence skipped, its silent tail not played."""
    marks = []
    if track.cued_in:
        marks.append(f"from {clock(track.from_s, tenths=True)}")
    if track.cued_out:
        marks.append(f"to {clock(track.from_s + track.duration_s, tenths=True)}")
    if track.own_fade_s:
        marks.append(f"fades out by itself over {track.own_fade_s:.1f} s")
    return f" [{'; '.join(marks)}]" if marks else ""


def render(playlist, plan) -> str:
    lines = [f"{plan.title}  ({clock(plan.total_s)}, seed {plan.seed})", ""]
    for phase, planned in zip(playlist.phases, plan.phases):
        extra = []
        if phase.order == "shuffle":
            extra.append("shuffled")
        if phase.ambience is not None:
            extra.append(f"ambience {phase.ambience.path.name} {phase.ambience.level_pct:g}%")
        if phase.fade_in_s:
            extra.append(f"fade in {clock(phase.fade_in_s)}")
        if phase.fade_out_s:
            extra.append(f"fade out {clock(phase.fade_out_s)}")
        lines.append(f"+{clock(planned.start_s):>7}  {phase.name}  {clock(planned.duration_s)}"
                     f"  level {phase.level_pct:g}%" + (f"  ({', '.join(extra)})" if extra else ""))
        several = len(planned.pools) > 1
        for track in planned.tracks:
            marks = (" [repeat]" if track.repeat else "") + (" [cut at phase end]" if track.cut else "")
            marks += f" [intensity {track.intensity}]" if several else ""
            marks += _cue_marks(track)
            lines.append(f"  +{clock(track.start_s):>7}  {clock(track.duration_s):>7}  "
                         f"{track.title}{marks}")
        if planned.silence_s > 0.5:
            last = planned is plan.phases[-1]
            what = "[silence until the session ends]" if last else \
                "[no music left: the next phase begins early]"
            lines.append(f"  {'':>8}  {clock(planned.silence_s):>7}  {what}")
        if planned.overrun_s > 0.5:
            lines.append(f"  {'':>8}  {'':>7}  [last track plays {clock(planned.overrun_s)} "
                         "past the phase's end]")
        if not phase.tracks:
            lines.append(f"  {'':>8}  {'':>7}  [ambience only]")
        if several:
            lines += _pools(phase, planned)
        lines.append("")
    lines += _cues(plan)
    return "\n".join(lines).rstrip() + "\n"


def _pools(phase, planned) -> list[str]:
    """What each intensity of a phase holds: where Softer and Deeper take the music."""
    titles = {t.path: t.title for t in phase.tracks}
    out = [f"  intensities (starts at {planned.intensity}; Softer and Deeper move it):"]
    for intensity, paths in planned.pools.items():
        out.append(f"    {intensity}  " + ", ".join(titles[p] for p in paths))
    return out


def _cues(plan) -> list[str]:
    """The silent cues, at their planned times (a dose-relative one: the dose as planned)."""
    if not plan.cues:
        return []
    out = ["Cues (shown on the phones, never played in the room):"]
    for cue, at_s in plan.cues:
        when = f"+{clock(at_s):>7}" if at_s is not None else f"{'':>8}"
        out.append(f"  {when}  {cue.at}: {cue.text}")
    return out


def run(args: argparse.Namespace) -> int:
    playlist = load_playlist(args.playlist)
    facts = known(playlist.files(), analyse=True, on_result=analysis_progress(len(playlist.files())))
    plan = make_plan(playlist, facts.durations, args.seed, facts.cues)
    if args.json:
        print(json.dumps(plan.to_json(), indent=2))
        return 0
    print(render(playlist, plan), end="")
    for problem in playlist_warnings(playlist, plan):
        print(dataclasses.replace(problem, path=str(args.playlist)))
    return 0
