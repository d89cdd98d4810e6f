"""The room config: the documented example loads, every mistake is located, hostile YAML refused."""

import re
import textwrap
from pathlib import Path

import pytest

from soundscape.engine.settings import RoomSettings
from soundscape.errors import PlaylistError, SoundscapeError
from soundscape.room import Room, check_room, default_room_path, load_room

DOCS = Path(__file__).resolve().parents[1] / "docs" / "room.md"


@pytest.fixture
def write(tmp_path, monkeypatch):
    """write(text, name='room.yaml'): a dedented room file in the working folder; its name."""
    monkeypatch.chdir(tmp_path)

    def _write(text: str, name: str = "room.yaml") -> str:
        (tmp_path / name).write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return name
    return _write


def problems(name: str) -> list[str]:
    return [str(p) for p in check_room(name)[1]]


def doc_block(index: int) -> str:
    return re.findall(r"```yaml room.yaml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)[index]


def test_documented_example_loads_every_key(write, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    room = load_room(write(doc_block(0)))
    assert room == Room(
        path=tmp_path / "room.yaml", name="Room 2", output="pulse",
        device="alsa_output.usb-Audioengine_A2-00.analog-stereo", ceiling_pct=85.0,
        rise_db_per_s=6.0, fall_db_per_s=15.0, hush_pct=25.0, pause_fade_s=3.0, stop_fade_s=3.0,
        fade_out_s=60.0, extend_min=5.0, port=8800, log_dir=tmp_path / "home" / "soundscape-logs",
        loudness_target_lufs=-23.0, speaker_volume_pct=100.0)
    assert room.settings().speaker_volume_pct == 100.0


def test_documented_mistakes_give_the_messages_shown(write):
    text = DOCS.read_text(encoding="utf-8")
    shown = re.search(r"```console\n\$ soundscape preflight .*?\n(.*?)```", text, re.S).group(1)
    name = write(doc_block(1))
    with pytest.raises(PlaylistError) as caught:
        load_room(name)
    assert "".join(f"{problem}\n" for problem in caught.value.problems) == shown


def test_settings_put_the_rooms_values_over_the_defaults(write):
    room = load_room(write("""
        ceiling: 80
        rise_rate: 3dB/s
        fall_rate: 12.5 dB/s
        hush_level: 20%
        pause_fade: 0s
        stop_fade: 5s
        fade_out: 2m
        extend: 90s
    """))
    assert room.settings() == RoomSettings(
        ceiling_pct=80.0, rise_db_per_s=3.0, fall_db_per_s=12.5, hush_pct=20.0,
        pause_fade_s=0.0, stop_fade_s=5.0, fade_out_default_s=120.0, extend_default_min=1.5)


def test_unset_values_are_none_and_settings_are_the_defaults(write):
    room = load_room(write("output: none\n"))
    assert room.output == "none" and room.ceiling_pct is None and room.port is None
    assert room.settings() == RoomSettings()


@pytest.mark.parametrize("text", ["", "# only a comment\n", "---\n", "~\n"])
def test_an_empty_file_changes_nothing(write, text):
    room = load_room(write(text))
    assert room.path.name == "room.yaml" and room.settings() == RoomSettings()
    assert room == Room(path=room.path)


def test_every_mistake_is_located(write):
    name = write("""
        output: speakers
        device: 3
        ceiling: loud
        rise_rate: fast
        fall_rate: 0dB/s
        hush_level: 120%
        pause_fade: 3
        stop_fade: 3 seconds
        fade_out: 0s
        extend: -5m
        port: 80800
        log_dir: ''
        loudness_target: -23
        celing: 80%
        ceiling: 0%
    """)
    assert problems(name) == [
        "room.yaml:1:9: output must be one of auto, pulse, alsa, snapcast, none, not 'speakers'",
        "room.yaml:2:9: device must be text; write it in quotes: '3'",
        "room.yaml:3:10: ceiling must be a number 0-100 or a percentage like 70%, not 'loud'",
        "room.yaml:4:12: rise_rate must look like 6dB/s, not 'fast'",
        "room.yaml:5:12: fall_rate must be faster than 0dB/s",
        "room.yaml:6:13: hush_level must be between 0% and 100%, not 120%",
        "room.yaml:7:13: pause_fade must look like 15m, 90s or 1h30m, not 3",
        "room.yaml:8:12: stop_fade must look like 15m, 90s or 1h30m, not '3 seconds'",
        "room.yaml:9:11: fade_out must be longer than 0s",
        "room.yaml:10:9: extend must look like 15m, 90s or 1h30m, not '-5m'",
        "room.yaml:11:7: port must be a number 1-65535, not 80800",
        "room.yaml:12:10: log_dir must not be empty",
        "room.yaml:13:18: loudness_target must look like -23LUFS, not -23",
        "room.yaml:14:1: unknown key 'celing' in the room config; did you mean 'ceiling'?",
        "room.yaml:15:1: duplicate key 'ceiling' (first at line 3)",
    ]


def test_ceiling_zero_and_loudness_out_of_range(write):
    assert problems(write("ceiling: 0%\nloudness_target: -80LUFS\nport: '8800'\n"
                          "speaker_volume: 0%\n")) == [
        "room.yaml:1:10: ceiling must be above 0%, or nothing would ever be heard",
        "room.yaml:2:18: loudness_target must be between -70LUFS and 0LUFS, not -80LUFS",
        "room.yaml:3:7: port must be a number 1-65535, not '8800'",
        "room.yaml:4:17: speaker_volume must be above 0%: soundscape would keep the speaker "
        "silent",
    ]


def test_mistakes_raise_playlist_error_with_every_problem(write):
    with pytest.raises(PlaylistError) as caught:
        load_room(write("ceiling: loud\nport: 0\n"))
    assert [str(p) for p in caught.value.problems] == [
        "room.yaml:1:10: ceiling must be a number 0-100 or a percentage like 70%, not 'loud'",
        "room.yaml:2:7: port must be a number 1-65535, not 0",
    ]


@pytest.mark.parametrize("text, expected", [
    ("base: &b 80%\nceiling: *b\n", ["room.yaml:1:7: anchors and aliases are not allowed",
                                      "room.yaml:2:10: anchors and aliases are not allowed"]),
    ("ceiling: !!python/object:os.system 80\n",
     ["room.yaml:1:10: tags like !!python/object are not allowed "
      "(found !!python/object:os.system)"]),
    ("output: pulse\n---\noutput: alsa\n",
     ["room.yaml:2:1: YAML syntax error: a room config file holds one YAML document; "
      "remove the '---' line"]),
    ("output: pulse\n\tceiling: 80%\n",
     ["room.yaml:2:1: tabs are not allowed for indentation; use spaces"]),
    ("- ceiling: 80%\n",
     ["room.yaml:1:1: the room config must be a mapping of keys like name, output, device, "
      "not a list"]),
    ("ceiling: [80%]\n", ["room.yaml:1:10: ceiling must be a single value, not a list"]),
])
def test_hostile_and_malformed_yaml_is_refused(write, text, expected):
    room, found = check_room(write(text))
    assert room is None and [str(p) for p in found] == expected


def test_deep_nesting_and_huge_files_are_refused(write, tmp_path):
    assert problems(write("a: " + "[" * 30 + "]" * 30 + "\n")) == [
        "room.yaml:1:23: nested more than 20 levels deep; is it a room config?"]
    (tmp_path / "big.yaml").write_text("#" * (1024 * 1024 + 1))
    assert problems("big.yaml") == [
        "big.yaml:1:1: file is larger than 1 MB (1048577 bytes); is it a room config?"]


def test_relative_log_dir_starts_at_the_room_files_folder(write, tmp_path):
    (tmp_path / "conf").mkdir()
    room = load_room(write("log_dir: logs/room-a\n", "conf/room.yaml"))
    assert room.log_dir == tmp_path / "conf" / "logs" / "room-a"


def test_named_file_missing_is_an_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SoundscapeError, match=r"^no such room config: nope.yaml$"):
        load_room("nope.yaml")
    with pytest.raises(SoundscapeError, match=r"is a folder, not a room config file$"):
        load_room(str(tmp_path))


def test_default_location_follows_xdg_config_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert default_room_path() == tmp_path / "soundscape" / "room.yaml"
    assert load_room() == Room()  # no file there: every default
    (tmp_path / "soundscape").mkdir()
    (tmp_path / "soundscape" / "room.yaml").write_text("ceiling: 60%\n")
    assert load_room().ceiling_pct == 60.0
    (tmp_path / "soundscape" / "room.yaml").write_text("ceiling: loud\n")
    with pytest.raises(PlaylistError, match="ceiling must be"):
        load_room()


def test_a_name_must_be_text_that_can_become_an_address(write):
    assert load_room(write("name: '  Salle Étoile '\n")).name == "Salle Étoile"
    assert problems(write("name: 12\n")) == [
        "room.yaml:1:7: name must be text; write it in quotes: '12'"]
    assert problems(write("name: '---'\n")) == [
        "room.yaml:1:7: name must hold a letter or digit (a-z, 0-9) and be at most 63 characters (it "
        "becomes the room's address), not '---'"]
