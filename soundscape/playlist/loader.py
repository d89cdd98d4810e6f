"""The playlist loader: YAML file -> validated ``Playlist``, or every problem, located and sorted.

A clinician's typo must never surface in the middle of a session, so the loader checks all it can
before anything plays (values, structure, every file) and reports all problems at once as
``path:line:col: message``.
"""

from __future__ import annotations

import os
from pathlib import Path

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from soundscape.config import values
from soundscape.config.readers import ValueReader
from soundscape.config.yamlnodes import (NULL_TAG, STR_TAG, Report, mapping, read_bounded,
                                         read_nodes, text)
from soundscape.errors import PlaylistError, Problem
from soundscape.playlist.cues import read_cues
from soundscape.playlist.medicine import read_medicine
from soundscape.playlist.model import (AT_END, DEFAULT_AMBIENCE_LEVEL_PCT, DEFAULT_CROSSFADE_S,
                                       DEFAULT_INTENSITY, DEFAULT_LEVEL_PCT, ORDERS, WHEN_SHORT,
                                       Ambience, Phase, Playlist, Track, Where)
from soundscape.playlist.tracks import Files

TOP_KEYS = ("title", "phases", "description", "music_dir", "defaults", "ambience", "medicine",
            "cues")
SETTING_KEYS = ("level", "crossfade", "order", "at_end", "when_short")
PHASE_KEYS = ("name", "duration", "tracks", "ambience", "fade_in", "fade_out",
              "intensity") + SETTING_KEYS
TRACK_KEYS = ("file", "gain", "title", "start", "end", "intensity")
ONE_FILE_KEYS = ("title", "start", "end")  # a mapping with one of these names a single file
AMBIENCE_KEYS = ("file", "level")
LONG_SESSION_S = 12 * 3600
BUILTIN_DEMO = "builtin:demo"

_NONE = object()  # 'ambience: none' (distinct from 'not given')


def _where(node: Node) -> Where:
    return Where(node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    """Builds one playlist from its root node, collecting problems instead of stopping."""

    def __init__(self, path: Path, report: Report):
        self.path = path
        self.report = report
        self.read = ValueReader(report)
        self.files: Files | None = None
        self.phase_names: dict[str, int] = {}  # name -> line, in playing order

    def _required(self, items: dict, key: str, node: Node, what: str) -> Node | None:
        if key not in items:
            self.report.error(node, f"{what} is missing '{key}'")
            return None
        return items[key][1]

    def _music_dir(self, items: dict) -> Path | None:
        folder = self.path.parent
        if "music_dir" not in items:
            return folder
        node = items["music_dir"][1]
        written = text(node, "music_dir", self.report)
        if written is None:
            return None
        if written == BUILTIN_DEMO:
            try:
                from soundscape.demo import ensure_demo_music
            except ImportError as exc:
                self.report.error(node, f"{BUILTIN_DEMO} is not available in this installation "
                                        f"({exc})")
                return None
            return Path(ensure_demo_music()).absolute()
        full = Path(os.path.normpath(os.path.join(folder, os.path.expanduser(written))))
        if not full.is_dir():
            self.report.error(node, f"no such folder: {full}")
            return None
        return full

    def _settings(self, items: dict) -> dict[str, tuple[object, Node]]:
        """The SETTING_KEYS a mapping sets: name -> (value, value node); bad ones are left out."""
        read = self.read
        readers = {
            "level": lambda n: read.level(n),
            "crossfade": lambda n: read.duration(n, "crossfade"),
            "order": lambda n: read.choice(n, "order", ORDERS),
            "at_end": lambda n: read.choice(n, "at_end", AT_END),
            "when_short": lambda n: read.choice(n, "when_short", WHEN_SHORT),
        }
        out = {}
        for key, read_value in readers.items():
            if key in items:
                value = read_value(items[key][1])
                if value is not None:
                    out[key] = (value, items[key][1])
        return out

    def _ambience(self, node: Node) -> object:
        """An Ambience, _NONE for 'none', or None after a problem."""
        if isinstance(node, ScalarNode) and node.tag == STR_TAG and node.value == "none":
            return _NONE
        if not isinstance(node, MappingNode):
            self.report.error(node, "ambience must be a mapping with file (and level), or none")
            return None
        items = mapping(node, AMBIENCE_KEYS, "ambience", self.report)
        file_node = self._required(items, "file", node, "ambience")
        level = DEFAULT_AMBIENCE_LEVEL_PCT
        if "level" in items:
            level = self.read.level(items["level"][1])
        written = text(file_node, "file", self.report) if file_node is not None else None
        if written is None or level is None or self.files is None:
            return None
        path = self.files.one_file(written, file_node)
        return Ambience(path, level, _where(node)) if path else None

    def _track_mapping(self, node: MappingNode) -> list[Track]:
        items = mapping(node, TRACK_KEYS, "track", self.report)
        file_node = self._required(items, "file", node, "track")
        written = text(file_node, "file", self.report) if file_node is not None else None
        gain = self.read.gain(items["gain"][1]) if "gain" in items else 0.0
        title = text(items["title"][1], "title", self.report) if "title" in items else ""
        start = self.read.duration(items["start"][1], "start") if "start" in items else 0.0
        end = None
        if "end" in items:
            end = self.read.duration(items["end"][1], "end")
            if end is not None and start is not None and end <= start:
                self.report.error(items["end"][1], f"end must be after start "
                                                   f"({values.format_duration(start)})")
                end = None
        intensity = (self.read.intensity(items["intensity"][1]) if "intensity" in items
                     else DEFAULT_INTENSITY)
        if None in (written, gain, title, start, intensity) or self.files is None:
            return []
        if not any(k in items for k in ONE_FILE_KEYS):  # a folder or glob may carry gain, intensity
            return [Track(p, p.stem, gain, where=_where(node), intensity=intensity)
                    for p in self.files.entry(written, file_node)]
        path = self.files.one_file(written, file_node,
                                   single_because=", ".join(k for k in ONE_FILE_KEYS if k in items))
        if path is None:
            return []
        return [Track(path, title or path.stem, gain, start, end, _where(node), intensity)]

    def _tracks(self, node: Node) -> tuple[int, list[Track]]:
        """(number of entries, tracks); entries count even when files cannot be checked."""
        if not isinstance(node, SequenceNode):
            if not (isinstance(node, ScalarNode) and node.tag == NULL_TAG):
                self.report.error(node, "tracks must be a list of files, folders or globs")
            return 0, []
        tracks: list[Track] = []
        for entry in node.value:
            if isinstance(entry, MappingNode):
                tracks += self._track_mapping(entry)
                continue
            written = text(entry, "a track", self.report)
            if written is not None and self.files is not None:
                tracks += [Track(p, p.stem, where=_where(entry))
                           for p in self.files.entry(written, entry)]
        return len(node.value), tracks

    def _phase(self, node: Node, defaults: dict, top_ambience: object,
               names: dict[str, int]) -> Phase | None:
        items = mapping(node, PHASE_KEYS, "phase", self.report)
        if items is None:
            return None
        name_node = self._required(items, "name", node, "phase")
        name = text(name_node, "name", self.report) if name_node is not None else None
        if name is not None:
            if name in names:
                self.report.error(name_node, f"duplicate phase name '{name}' "
                                             f"(first at line {names[name]})")
            else:
                names[name] = name_node.start_mark.line + 1
        duration_node = self._required(items, "duration", node, "phase")
        duration = (self.read.duration(duration_node, "duration", positive=True)
                    if duration_node is not None else None)
        settings = {**defaults, **self._settings(items)}
        intensity = (self.read.intensity(items["intensity"][1]) if "intensity" in items
                     else DEFAULT_INTENSITY)
        fade_in = self.read.duration(items["fade_in"][1], "fade_in") if "fade_in" in items else 0.0
        fade_out = (self.read.duration(items["fade_out"][1], "fade_out")
                    if "fade_out" in items else 0.0)
        count, tracks = self._tracks(items["tracks"][1]) if "tracks" in items else (0, [])
        ambience = self._ambience(items["ambience"][1]) if "ambience" in items else top_ambience
        label = f"phase '{name}'" if name else "this phase"
        if count == 0 and ambience is _NONE:  # None: a broken bed, already reported
            self.report.error(node, f"{label} has no tracks and no ambience; "
                                    "give it tracks or an ambience bed")
        if duration is not None:
            self._fits(items, settings, duration, fade_in, fade_out, duration_node, count > 0)
        if None in (name, duration, fade_in, fade_out, intensity):
            return None
        crossfade = settings.get("crossfade", (DEFAULT_CROSSFADE_S, None))[0]
        return Phase(
            name=name, duration_s=duration,
            level_pct=settings.get("level", (DEFAULT_LEVEL_PCT, None))[0],
            crossfade_s=crossfade,
            order=settings.get("order", ("in-order", None))[0],
            at_end=settings.get("at_end", ("fade", None))[0],
            when_short=settings.get("when_short", ("repeat", None))[0],
            fade_in_s=fade_in, fade_out_s=fade_out, tracks=tuple(tracks),
            ambience=ambience if isinstance(ambience, Ambience) else None,
            where=_where(node), intensity=intensity)

    def _fits(self, items, settings, duration, fade_in, fade_out, duration_node,
              has_tracks) -> None:
        """Crossfades and fades that cannot fit inside their phase."""
        fmt = values.format_duration
        if not has_tracks:
            pass  # an ambience-only phase never crossfades
        elif "crossfade" in settings:
            crossfade, cf_node = settings["crossfade"]
            if crossfade > duration:
                if "crossfade" in items:
                    self.report.error(cf_node, f"crossfade {fmt(crossfade)} is longer than "
                                               f"the phase ({fmt(duration)})")
                else:
                    self.report.error(duration_node, f"the phase ({fmt(duration)}) is shorter "
                                                     f"than the crossfade in defaults "
                                                     f"({fmt(crossfade)})")
        elif DEFAULT_CROSSFADE_S > duration:
            self.report.error(duration_node, f"the phase ({fmt(duration)}) is shorter than the "
                                             f"default crossfade ({fmt(DEFAULT_CROSSFADE_S)}); "
                                             "set a shorter crossfade")
        if fade_in is not None and fade_out is not None and fade_in + fade_out > duration:
            last = items["fade_out" if "fade_out" in items else "fade_in"][1]
            self.report.error(last, f"fade_in + fade_out ({fmt(fade_in + fade_out)}) is longer "
                                    f"than the phase ({fmt(duration)})")

    def build(self, root: Node) -> Playlist | None:
        items = mapping(root, TOP_KEYS, "the playlist", self.report)
        if items is None:
            return None
        title_node = self._required(items, "title", root, "the playlist")
        title = text(title_node, "title", self.report) if title_node is not None else None
        description = ""
        if "description" in items:
            description = text(items["description"][1], "description", self.report) or ""
        music_dir = self._music_dir(items)
        if music_dir is not None:
            self.files = Files(music_dir, self.report)
        defaults = {}
        if "defaults" in items:
            default_items = mapping(items["defaults"][1], SETTING_KEYS, "defaults", self.report)
            defaults = self._settings(default_items) if default_items is not None else {}
        top_ambience = self._ambience(items["ambience"][1]) if "ambience" in items else _NONE
        phases = self._phases(items, root, defaults, top_ambience)
        medicine = None
        if "medicine" in items:
            medicine = read_medicine(items["medicine"][1], list(self.phase_names), phases,
                                     self.report)
        cues = ()
        if "cues" in items:
            built = len(phases) == len(self.phase_names)
            cues = read_cues(items["cues"][1], list(self.phase_names),
                             medicine if medicine is not None or "medicine" not in items else True,
                             sum(p.duration_s for p in phases) if built else None, self.report)
        if self.files is not None:
            self.files.verify()
        if self.report.has_errors or title is None:
            return None
        playlist = Playlist(self.path, title, tuple(phases), description, music_dir, medicine,
                            cues)
        if playlist.duration_s > LONG_SESSION_S:
            self.report.warning(items["phases"][0], f"the session lasts "
                                                    f"{values.format_duration(playlist.duration_s)}"
                                                    ", over 12h; check the phase durations")
        return playlist

    def _phases(self, items, root, defaults, top_ambience) -> list[Phase]:
        node = self._required(items, "phases", root, "the playlist")
        if node is None:
            return []
        if not isinstance(node, SequenceNode):
            self.report.error(node, "phases must be a list of phases, each starting with '- name:'")
            return []
        if not node.value:
            self.report.error(node, "phases must list at least one phase")
            return []
        phases = [self._phase(p, defaults, top_ambience, self.phase_names) for p in node.value]
        return [p for p in phases if p is not None]


def check_file(path: str | os.PathLike, files_out: list[Files] | None = None,
               ) -> tuple[Playlist | None, list[Problem]]:
    """Load one playlist: (playlist or None, sorted errors and loader warnings).

    ``path`` appears in problems exactly as given, so messages match what the user typed. When
    ``files_out`` is a list, it receives the file resolver (its ``good`` and ``bad`` files), so
    that pre-flight can name bad files and still try the good ones of a refused playlist.
    """
    shown = os.fspath(path)
    report = Report(shown)
    data = read_bounded(shown, report)
    if data is None:
        return None, report.problems
    root = read_nodes(data, report)
    playlist = None
    if root is not None:
        builder = _Builder(Path(os.path.abspath(shown)), report)
        playlist = builder.build(root)
        if files_out is not None and builder.files is not None:
            files_out.append(builder.files)
    return (playlist if not report.has_errors else None), sorted(report.problems)


def load_playlist(path: str | os.PathLike) -> Playlist:
    """The playlist, or ``PlaylistError`` carrying every error (warnings do not stop loading)."""
    playlist, problems = check_file(path)
    errors = [p for p in problems if p.severity == "error"]
    if playlist is None or errors:
        raise PlaylistError(errors)
    return playlist
