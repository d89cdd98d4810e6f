"""The JSON Schema and the loader agree: what editors accept, ``soundscape check`` accepts.

Editors read YAML 1.2, where ``1:30`` and ``on`` are text, so documents are read here the same way
before validation (a SafeLoader without YAML 1.1's booleans and sexagesimal numbers).
"""

import json
import re
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml

from soundscape.config import values
from soundscape.playlist import check_file

REPO = Path(__file__).resolve().parents[2]
SHIPPED = sorted((REPO / "playlists").rglob("*.yaml"))
DOCS = REPO / "docs" / "playlists.md"


class Yaml12Loader(yaml.SafeLoader):
    """YAML 1.2 core schema scalars: only true/false are booleans, no base-60 numbers."""


Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers
            if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int",
                           "tag:yaml.org,2002:float")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789"))
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$"),
    list("-+0123456789."))


def schema():
    return json.loads(resources.files("soundscape").joinpath("schema.json").read_text())


def schema_errors(text: str) -> list[str]:
    document = yaml.load(text, Loader=Yaml12Loader)
    validator = jsonschema.Draft202012Validator(schema())
    return [e.message for e in validator.iter_errors(document)]


def test_yaml12_reading():
    assert yaml.load("a: 1:30\nb: on\nc: true\nd: 70\ne: 0.5", Loader=Yaml12Loader) == {
        "a": "1:30", "b": "on", "c": True, "d": 70, "e": 0.5}


def test_schema_is_valid_draft_2020_12():
    jsonschema.Draft202012Validator.check_schema(schema())


def test_schema_patterns_are_the_loaders():
    defs = schema()["$defs"]
    assert defs["duration"]["pattern"] == values.DURATION_PATTERN
    assert defs["level"]["oneOf"][1]["pattern"] == values.LEVEL_PATTERN
    assert defs["gain"]["oneOf"][1]["pattern"] == values.GAIN_PATTERN
    for text in ("90s", "15m", "1h30m", "1:30", "1:02:30", "0.5s"):
        assert re.match(defs["duration"]["pattern"], text)
    assert not re.match(defs["duration"]["pattern"], "15 mins")


@pytest.fixture(scope="module")
def demo_cache(tmp_path_factory):
    """One shared cache, so the demo material is synthesised once for this module."""
    return tmp_path_factory.mktemp("demo-cache")


def test_there_are_shipped_playlists_to_check():
    assert any(p.name == "demo.yaml" for p in SHIPPED)


@pytest.mark.parametrize("path", SHIPPED, ids=[str(p.relative_to(REPO)) for p in SHIPPED])
def test_shipped_playlists_pass_schema_and_loader(path, demo_cache, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(demo_cache))
    assert schema_errors(path.read_text(encoding="utf-8")) == []
    playlist, problems = check_file(path)
    assert [str(p) for p in problems if p.severity == "error"] == []
    assert playlist is not None


def docs_examples() -> list[str]:
    """Every complete playlist (a yaml block with a title) in docs/playlists.md."""
    blocks = re.findall(r"```yaml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    return [b for b in blocks if re.search(r"^title:", b, re.M)]


def test_docs_have_complete_examples():
    assert len(docs_examples()) >= 2


@pytest.mark.parametrize("index", range(len(docs_examples()) if DOCS.exists() else 0))
def test_docs_examples_pass_schema_and_loader(index, tmp_path, demo_cache, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(demo_cache))
    text = docs_examples()[index]
    assert schema_errors(text) == []
    (tmp_path / "example.yaml").write_text(text, encoding="utf-8")
    playlist, problems = check_file(tmp_path / "example.yaml")
    assert [str(p) for p in problems] == []
    assert playlist is not None


HEAD = "title: T\nphases:\n  - name: A\n    duration: 10m\n    tracks: [a.wav]\n"

# Two phases, so that a medicine block is valid when its values are.
MEDICINE = ("title: T\nmedicine: {}\n" + HEAD[9:]
            + "  - name: B\n    duration: 5m\n    tracks: [b.wav]\n")

BROKEN = {
    "missing title": "phases: [{name: A, duration: 10m, tracks: [a.wav]}]\n",
    "missing phases": "title: T\n",
    "empty phases": "title: T\nphases: []\n",
    "phases not a list": "title: T\nphases: {name: A}\n",
    "unknown top key": HEAD + "titel: U\n",
    "unknown phase key": HEAD + "    durration: 5m\n",
    "phase without duration": "title: T\nphases: [{name: A, tracks: [a.wav]}]\n",
    "words duration": HEAD.replace("10m", "15 mins"),
    "bare number duration": HEAD.replace("10m", "90"),
    "negative duration": HEAD.replace("10m", "-5m"),
    "level over 100": HEAD + "    level: 101\n",
    "level percent over 100": HEAD + "    level: 150%\n",
    "level as clock": HEAD + "    level: 1:30\n",
    "level without percent": HEAD + "    level: '70'\n",
    "order word": HEAD + "    order: random\n",
    "at_end boolean": HEAD + "    at_end: true\n",
    "when_short word": HEAD + "    when_short: loop\n",
    "crossfade number": HEAD + "    crossfade: 5\n",
    "gain words": "title: T\nphases: [{name: A, duration: 1m, tracks: [{file: a.wav, "
                  "gain: loud}]}]\n",
    "gain out of range": "title: T\nphases: [{name: A, duration: 1m, tracks: [{file: a.wav, "
                         "gain: 20}]}]\n",
    "track without file": "title: T\nphases: [{name: A, duration: 1m, tracks: [{gain: 1dB}]}]\n",
    "unknown track key": "title: T\nphases: [{name: A, duration: 1m, tracks: [{file: a.wav, "
                         "volume: 3}]}]\n",
    "ambience as text": "title: T\nambience: a.wav\n" + HEAD[9:],
    "ambience without file": "title: T\nambience: {level: 20}\n" + HEAD[9:],
    "unknown defaults key": "title: T\ndefaults: {crosfade: 3s}\n" + HEAD[9:],
    "empty title": "title: ''\n" + HEAD[9:],
    "medicine without route": MEDICINE.format("{dose_phase: A}"),
    "medicine route word": MEDICINE.format("{route: oral}"),
    "unknown medicine key": MEDICINE.format("{route: im, dose: A}"),
    "booster bare number": MEDICINE.format("{route: im, booster: 40}"),
    "booster_extend words": MEDICINE.format("{route: im, booster_extend: 15 mins}"),
    "medicine as text": MEDICINE.format("im"),
}


def test_broken_heads_are_valid_playlists(write):
    assert check_file(write(HEAD))[1] == []
    assert schema_errors(HEAD) == []
    medicine = MEDICINE.format("{route: im, dose_phase: A, booster: 4m, booster_extend: 10m}")
    assert check_file(write(medicine))[1] == []
    assert schema_errors(medicine) == []


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_documents_are_refused_by_both(name, write):
    text = BROKEN[name]
    assert schema_errors(text), f"schema accepted {name}"
    playlist, problems = check_file(write(text))
    assert playlist is None and [p for p in problems if p.severity == "error"]


def test_docs_broken_example_gives_the_messages_shown(tmp_path, make_wav, monkeypatch):
    text = DOCS.read_text(encoding="utf-8")
    example = re.search(r"```yaml tuesday.yaml\n(.*?)```", text, re.S).group(1)
    shown = re.search(r"```console\n\$ soundscape check tuesday.yaml\n(.*?)```", text, re.S)
    for name in ("arrival-1", "onset-1", "peak-1"):
        make_wav(tmp_path / f"{name}.wav")
    (tmp_path / "tuesday.yaml").write_text(example, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    expected = shown.group(1).replace("/home/clinic/music", str(tmp_path)).splitlines()
    assert [str(p) for p in check_file("tuesday.yaml")[1]] == expected
