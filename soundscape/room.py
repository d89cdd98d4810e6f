"""The room config file: the output, the safety limits and the defaults one room always plays with.

A playlist says what a session should sound like; the room file says what this room may never do
(a ceiling, how fast the level may rise) and where the sound goes. It is read with the node
readers playlists use (``soundscape.config``), so its mistakes are located and worded the same way,
and refused before a session.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from yaml.nodes import Node, SequenceNode

from soundscape import paths
from soundscape.config import values
from soundscape.config.readers import ValueReader
from soundscape.config.yamlnodes import (NULL_TAG, Report, is_bare, mapping, read_bounded,
                                         read_nodes, scalar, text)
from soundscape.engine import snapcast
from soundscape.engine.settings import OUTPUT_KINDS, RoomSettings
from soundscape.errors import PlaylistError, Problem

ROOM_KEYS = ("name", "output", "device", "ceiling", "rise_rate", "fall_rate", "hush_level", "pause_fade",
             "stop_fade", "fade_out", "extend", "port", "log_dir", "loudness_target",
             "speaker_volume", "snapcast_format", "snapcast_control", "snapcast_buffer",
             "speakers")
RATE_PATTERN = r"^\d+(?:\.\d+)? ?dB/s$"
LOUDNESS_PATTERN = r"^-\d+(?:\.\d+)? ?LUFS$"
MIN_LOUDNESS_LUFS = -70.0


@dataclass(frozen=True)
class Room:
    """The values a room file sets; None for every key it leaves out (the defaults apply)."""

    path: Path | None = None  # the file, absolute; None when no file was read
    name: str | None = None  # what phones find the room by: http://<name>.local (roomlink.py)
    output: str | None = None
    device: str | None = None
    ceiling_pct: float | None = None
    rise_db_per_s: float | None = None
    fall_db_per_s: float | None = None
    hush_pct: float | None = None
    pause_fade_s: float | None = None
    stop_fade_s: float | None = None
    fade_out_s: float | None = None
    extend_min: float | None = None
    port: int | None = None
    log_dir: Path | None = None  # absolute: ~ expanded, relative to the room file's folder
    loudness_target_lufs: float | None = None
    speaker_volume_pct: float | None = None  # soundscape owns the sink: its volume is kept here
    snapcast_format: str | None = None  # the Snapcast server's sample format (48000:16:2)
    snapcast_control: str | None = None  # host:port of its JSON-RPC
    snapcast_buffer_s: float | None = None  # its stream buffer, as configured there
    speakers: tuple[str, ...] | None = None  # the Snapcast clients the room expects

    def snapcast(self):
        """The snapcast output's settings: this room's values over Snapcast's defaults."""
        given = {"sample_format": self.snapcast_format, "control": self.snapcast_control,
                 "buffer_s": self.snapcast_buffer_s, "speakers": self.speakers}
        return snapcast.SnapcastSettings(**{k: v for k, v in given.items() if v is not None})

    def settings(self) -> RoomSettings:
        """The engine's safety settings: this room's values over RoomSettings' defaults."""
        given = {
            "ceiling_pct": self.ceiling_pct, "rise_db_per_s": self.rise_db_per_s,
            "fall_db_per_s": self.fall_db_per_s, "hush_pct": self.hush_pct,
            "pause_fade_s": self.pause_fade_s, "stop_fade_s": self.stop_fade_s,
            "fade_out_default_s": self.fade_out_s, "extend_default_min": self.extend_min,
            "speaker_volume_pct": self.speaker_volume_pct,
        }
        return RoomSettings(**{k: v for k, v in given.items() if v is not None})


def default_room_path() -> Path:
    """``$XDG_CONFIG_HOME/soundscape/room.yaml`` (``~/.config`` when the variable is unset)."""
    return paths.config_dir() / "room.yaml"


class _RoomReader:
    """Reads each key of the room mapping; each read returns None after reporting a problem."""

    def __init__(self, path: Path, report: Report):
        self.folder = path.parent
        self.report = report
        self.read = ValueReader(report)

    def _pattern(self, node: Node, what: str, pattern: str, example: str) -> float | None:
        node = scalar(node, what, self.report)
        if node is None:
            return None
        if is_bare(node) or not re.match(pattern, node.value):
            self.report.error(node, f"{what} must look like {example}, "
                                    f"not {values.shown(node.value, not is_bare(node))}")
            return None
        return float(re.match(r"^-?\d+(?:\.\d+)?", node.value).group(0))

    def rate(self, node: Node, what: str) -> float | None:
        rate = self._pattern(node, what, RATE_PATTERN, "6dB/s")
        if rate is not None and rate <= 0:
            self.report.error(node, f"{what} must be faster than 0dB/s")
            return None
        return rate

    def ceiling(self, node: Node) -> float | None:
        level = self.read.level(node, "ceiling")
        if level is not None and level <= 0:
            self.report.error(node, "ceiling must be above 0%, or nothing would ever be heard")
            return None
        return level

    def port(self, node: Node) -> int | None:
        node = scalar(node, "port", self.report)
        if node is None:
            return None
        if not (is_bare(node) and re.match(r"^\d{1,5}$", node.value)
                and 1 <= int(node.value) <= 65535):
            self.report.error(node, f"port must be a number 1-65535, "
                                    f"not {values.shown(node.value, not is_bare(node))}")
            return None
        return int(node.value)

    def loudness(self, node: Node) -> float | None:
        target = self._pattern(node, "loudness_target", LOUDNESS_PATTERN, "-23LUFS")
        if target is not None and target < MIN_LOUDNESS_LUFS:
            self.report.error(node, f"loudness_target must be between -70LUFS and 0LUFS, "
                                    f"not {node.value}")
            return None
        return target

    def speaker_volume(self, node: Node) -> float | None:
        level = self.read.level(node, "speaker_volume")
        if level is not None and level <= 0:
            self.report.error(node, "speaker_volume must be above 0%: soundscape would keep "
                                    "the speaker silent")
            return None
        return level

    def name(self, node: Node) -> str | None:
        written = text(node, "name", self.report)
        if written is None:
            return None
        if not re.search(r"[A-Za-z0-9]", written) or len(written) > 63:
            self.report.error(node, "name must hold a letter or digit (a-z, 0-9) and be at most 63 "
                                    f"characters (it becomes the room's address), not "
                                    f"{values.shown(written, True)}")
            return None
        return written.strip()

    def folder_path(self, node: Node, what: str) -> Path | None:
        written = text(node, what, self.report)
        if written is None:
            return None
        return Path(os.path.normpath(os.path.join(self.folder, os.path.expanduser(written))))

    def read_all(self, items: dict) -> dict[str, object]:
        """Room field name -> value, for every key set and valid."""
        read = self.read
        readers = {
            "name": ("name", self.name),
            "output": ("output", lambda n: read.choice(n, "output", OUTPUT_KINDS)),
            "device": ("device", lambda n: text(n, "device", self.report)),
            "ceiling": ("ceiling_pct", self.ceiling),
            "rise_rate": ("rise_db_per_s", lambda n: self.rate(n, "rise_rate")),
            "fall_rate": ("fall_db_per_s", lambda n: self.rate(n, "fall_rate")),
            "hush_level": ("hush_pct", lambda n: read.level(n, "hush_level")),
            "pause_fade": ("pause_fade_s", lambda n: read.duration(n, "pause_fade")),
            "stop_fade": ("stop_fade_s", lambda n: read.duration(n, "stop_fade")),
            "fade_out": ("fade_out_s", lambda n: read.duration(n, "fade_out", positive=True)),
            "extend": ("extend_min", lambda n: self._minutes(n)),
            "port": ("port", self.port),
            "log_dir": ("log_dir", lambda n: self.folder_path(n, "log_dir")),
            "loudness_target": ("loudness_target_lufs", self.loudness),
            "speaker_volume": ("speaker_volume_pct", self.speaker_volume),
            "snapcast_format": ("snapcast_format", lambda n: self._checked(
                n, "snapcast_format", snapcast.parse_format)),
            "snapcast_control": ("snapcast_control", lambda n: self._checked(
                n, "snapcast_control", snapcast.parse_control)),
            "snapcast_buffer": ("snapcast_buffer_s", lambda n: read.duration(
                n, "snapcast_buffer")),
            "speakers": ("speakers", self._speakers),
        }
        out = {}
        for key, (field, read_value) in readers.items():
            if key in items:
                value = read_value(items[key][1])
                if value is not None:
                    out[field] = value
        return out

    def _checked(self, node: Node, what: str, parse) -> str | None:
        """Text checked by ``parse``; bare YAML is taken as written (48000:16:2 is an integer
        in base 60 to YAML 1.1)."""
        node = scalar(node, what, self.report)
        if node is None:
            return None
        written = node.value
        try:
            parse(written.strip())
        except ValueError as exc:
            self.report.error(node, str(exc))
            return None
        return written.strip()

    def _speakers(self, node: Node) -> tuple[str, ...] | None:
        if not isinstance(node, SequenceNode):
            self.report.error(node, "speakers must be a list of the Snapcast clients' names, "
                                    "e.g. [corner-left, corner-right]")
            return None
        names = [text(item, "a speaker's name", self.report) for item in node.value]
        if any(name is None for name in names):
            return None
        return tuple(name.strip() for name in names)

    def _minutes(self, node: Node) -> float | None:
        seconds = self.read.duration(node, "extend", positive=True)
        return None if seconds is None else seconds / 60.0


def check_room(path: str | os.PathLike) -> tuple[Room | None, list[Problem]]:
    """Read one room file: (Room or None, sorted problems). ``path`` is shown as given."""
    shown = os.fspath(path)
    report = Report(shown)
    data = read_bounded(shown, report, what="room config", missing="no such room config")
    if data is None:
        return None, report.problems
    root = read_nodes(data, report, what="room config", empty_ok=True)
    full = Path(os.path.abspath(shown))
    if report.has_errors:
        return None, sorted(report.problems)
    if root is None or root.tag == NULL_TAG:  # "~" or "---" alone: nothing set
        return Room(path=full), sorted(report.problems)
    items = mapping(root, ROOM_KEYS, "the room config", report)
    if items is None:
        return None, sorted(report.problems)
    found = _RoomReader(full, report).read_all(items)
    if report.has_errors:
        return None, sorted(report.problems)
    return Room(path=full, **found), sorted(report.problems)


def load_room(path: str | os.PathLike | None = None) -> Room:
    """The room config at ``path``; without a path, the default file if it exists, else Room().

    Raises PlaylistError (every located problem) for a file with mistakes, and SoundscapeError
    for a named file that cannot be read: a room whose limits were not read must not play.
    """
    if path is None:
        default = default_room_path()
        if not default.is_file():
            return Room()
        path = default
    room, problems = check_room(path)
    errors = [p for p in problems if p.severity == "error"]
    if room is None or errors:
        raise PlaylistError(errors)
    return room

