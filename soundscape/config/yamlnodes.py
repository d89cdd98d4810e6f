"""Safe reading of a YAML file (a playlist, the room config) into nodes that keep their positions, refusing YAML traps.

The file is refused before any parsing when it is too big or not UTF-8, and before composing when
it uses anchors, aliases or tags, so a billion-laughs file costs one pass over its events.
Composed nodes (not ``safe_load``) keep every value's position and its source text, which lets
the loader refuse duplicate keys and read ``1:30`` as text rather than YAML 1.1's integer 90.
"""

from __future__ import annotations

import difflib
import os

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from soundscape.errors import Problem, SoundscapeError

MAX_BYTES = 1024 * 1024
# libyaml parses ~10x faster and gives the same positions; errors are re-read by the pure-Python
# parser so messages do not depend on how PyYAML was built.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_DEPTH = 20  # a playlist needs 5 (phases, phase, tracks, track, value)

_STANDARD_TAGS = {f"tag:yaml.org,2002:{name}"
                  for name in ("str", "int", "float", "bool", "null", "seq", "map")}
STR_TAG = "tag:yaml.org,2002:str"
NULL_TAG = "tag:yaml.org,2002:null"


class Report:
    """Collects the problems of one file; ``path`` is the file's name as the user wrote it."""

    def __init__(self, path: str):
        self.path = path
        self.problems: list[Problem] = []

    def at(self, line: int, col: int, message: str, severity: str = "error") -> None:
        self.problems.append(Problem(self.path, line, col, message, severity))

    def error(self, node: Node, message: str) -> None:
        self.at(node.start_mark.line + 1, node.start_mark.column + 1, message)

    def warning(self, node: Node, message: str) -> None:
        self.at(node.start_mark.line + 1, node.start_mark.column + 1, message, "warning")

    @property
    def has_errors(self) -> bool:
        return any(p.severity == "error" for p in self.problems)


def _decode(data: bytes, report: Report) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        line = data.count(b"\n", 0, exc.start) + 1
        col = len(data[line_start:exc.start].decode("utf-8", errors="replace")) + 1
        report.at(line, col, f"file is not UTF-8 text (byte 0x{data[exc.start]:02x}); "
                             "save it as UTF-8")
        return None


def _tab_lines(text: str, report: Report) -> bool:
    """Report lines indented with tabs (YAML forbids them; editors hide them)."""
    found = False
    for number, line in enumerate(text.splitlines(), start=1):
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent and line.strip():
            report.at(number, indent.index("\t") + 1,
                      "tabs are not allowed for indentation; use spaces")
            found = True
    return found


def _short_tag(tag: str) -> str:
    return "!!" + tag[len("tag:yaml.org,2002:"):] if tag.startswith("tag:yaml.org,2002:") else tag


def _syntax_error(exc: yaml.YAMLError, text: str, report: Report, what: str) -> None:
    if _tab_lines(text, report):
        return  # the tab is the cause; the parser's own words would only confuse
    if isinstance(exc, yaml.reader.ReaderError):
        before = text[: exc.position]
        line = before.count("\n") + 1
        col = exc.position - (before.rfind("\n") + 1) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        report.at(line, col, f"the character U+{code:04X} is not allowed in YAML; "
                             "remove it")
        return
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    message = getattr(exc, "problem", None) or str(exc)
    if getattr(exc, "context", None) == "expected a single document in the stream":
        message = f"a {what} file holds one YAML document; remove the '---' line"
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    report.at(line, col, f"YAML syntax error: {message}")


def _refuse_hostile(text: str, report: Report, loader, what: str) -> bool:
    """One pass over parser events: anchors, aliases and non-standard tags are refused."""
    found = False
    depth = 0
    for event in yaml.parse(text, Loader=loader):
        mark = event.start_mark
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:  # composing is recursive: refuse before it overflows
                report.at(mark.line + 1, mark.column + 1,
                          f"nested more than {MAX_DEPTH} levels deep; is it a {what}?")
                return True
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            report.at(mark.line + 1, mark.column + 1, "anchors and aliases are not allowed")
            found = True
        tag = getattr(event, "tag", None)
        if tag and tag not in _STANDARD_TAGS:
            report.at(mark.line + 1, mark.column + 1,
                      f"tags like !!python/object are not allowed (found {_short_tag(tag)})")
            found = True
    return found


def read_nodes(data: bytes, report: Report, what: str = "playlist",
               empty_ok: bool = False) -> Node | None:
    """The document's root node, or None with the reasons in ``report``.

    ``what`` names the kind of file in messages; with ``empty_ok`` an empty document (or one of
    comments only) is None without a problem, for files whose keys are all optional.
    """
    if len(data) > MAX_BYTES:
        report.at(1, 1, f"file is larger than 1 MB ({len(data)} bytes); is it a {what}?")
        return None
    text = _decode(data, report)
    if text is None:
        return None
    try:
        if _refuse_hostile(text, report, _FAST_LOADER, what):
            return None
        root = yaml.compose(text, Loader=_FAST_LOADER)
    except yaml.YAMLError as exc:
        if _FAST_LOADER is not yaml.SafeLoader:  # same words with or without libyaml
            try:
                _refuse_hostile(text, Report(report.path), yaml.SafeLoader, what)
                yaml.compose(text, Loader=yaml.SafeLoader)
            except yaml.YAMLError as python_exc:
                exc = python_exc
        _syntax_error(exc, text, report, what)
        return None
    if root is None and not empty_ok:
        report.at(1, 1, "file is empty; a playlist needs at least a title and phases")
    return root


def kind(node: Node) -> str:
    """The node's shape in words, for 'must be a mapping, not a list' messages."""
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if node.tag == NULL_TAG:
        return "empty"
    return f"'{node.value}'" if node.tag == STR_TAG else node.value


def is_bare(node: ScalarNode) -> bool:
    """A plain scalar YAML 1.1 reads as non-text (``90``, ``yes``, ``1:30``, ``~``)."""
    return not node.style and node.tag != STR_TAG  # plain: None (PyYAML) or '' (libyaml)


def mapping(node: Node, allowed: tuple[str, ...], what: str, report: Report) -> dict | None:
    """Key text -> (key node, value node), reporting duplicate and unknown keys.

    Returns None (after reporting) when ``node`` is not a mapping at all.
    """
    if not isinstance(node, MappingNode):
        report.error(node, f"{what} must be a mapping of keys like {', '.join(allowed[:3])}, "
                           f"not {kind(node)}")
        return None
    items: dict[str, tuple[Node, Node]] = {}
    for key, value in node.value:
        if not isinstance(key, ScalarNode):
            report.error(key, "keys must be plain words")
            continue
        name = key.value
        if isinstance(value, ScalarNode) and value.tag == NULL_TAG and value.value == "":
            value.start_mark = key.start_mark  # 'nothing' is located at its key (parsers differ)
        if name in items:
            first = items[name][0].start_mark.line + 1
            report.error(key, f"duplicate key '{name}' (first at line {first})")
            continue
        if name not in allowed:
            close = difflib.get_close_matches(name, allowed, n=1)
            hint = (f"did you mean '{close[0]}'?" if close
                    else f"valid keys are {', '.join(allowed)}")
            report.error(key, f"unknown key '{name}' in {what}; {hint}")
        items[name] = (key, value)
    return {k: v for k, v in items.items() if k in allowed}


def text(node: Node, what: str, report: Report) -> str | None:
    """A value that must be text: YAML 1.1's booleans, numbers and nulls are refused, with a fix."""
    if not isinstance(node, ScalarNode):
        report.error(node, f"{what} must be text, not {kind(node)}")
        return None
    if node.tag == NULL_TAG and node.value in ("", "~"):
        report.error(node, f"{what} must not be empty")
        return None
    if node.tag != STR_TAG:
        report.error(node, f"{what} must be text; write it in quotes: '{node.value}'")
        return None
    if not node.value.strip():
        report.error(node, f"{what} must not be empty")
        return None
    return node.value


def scalar(node: Node, what: str, report: Report) -> ScalarNode | None:
    """The node when it is a single value; lists and mappings are refused."""
    if isinstance(node, ScalarNode):
        return node
    report.error(node, f"{what} must be a single value, not {kind(node)}")
    return None


def read_bounded(shown: str, report: Report, what: str = "playlist",
                 missing: str = "no such file") -> bytes | None:
    """The file's bytes, or None (a located problem) when it is over MAX_BYTES.

    Refusing by size before reading keeps a huge file from costing memory; a file that cannot be
    read at all is a SoundscapeError saying why.
    """
    article = "an" if what[0] in "aeiou" else "a"
    try:
        size = os.stat(shown).st_size
        if size > MAX_BYTES:
            report.at(1, 1, f"file is larger than 1 MB ({size} bytes); is it {article} {what}?")
            return None
        with open(shown, "rb") as f:
            return f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise SoundscapeError(f"{missing}: {shown}") from None
    except IsADirectoryError:
        raise SoundscapeError(f"{shown} is a folder, not {article} {what} file") from None
    except OSError as exc:
        raise SoundscapeError(f"cannot read {shown}: {exc.strerror}") from None

