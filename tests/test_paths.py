"""Every place soundscape keeps a file follows the XDG base directories, from one module."""

from __future__ import annotations

import pytest

from soundscape import paths

DIRS = [(paths.config_dir, "XDG_CONFIG_HOME", ".config"),
        (paths.state_dir, "XDG_STATE_HOME", ".local/state"),
        (paths.cache_dir, "XDG_CACHE_HOME", ".cache"),
        (paths.data_dir, "XDG_DATA_HOME", ".local/share")]


@pytest.mark.parametrize("where, variable, default", DIRS)
def test_each_folder_follows_its_variable_else_its_default(where, variable, default, tmp_path,
                                                            monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv(variable, str(tmp_path / "xdg"))
    assert where() == tmp_path / "xdg" / "soundscape"
    monkeypatch.delenv(variable)
    assert where() == tmp_path / "home" / default / "soundscape"
    monkeypatch.setenv(variable, "relative/dir")  # invalid by the spec: ignored
    assert where() == tmp_path / "home" / default / "soundscape"


def test_the_files_live_where_the_docs_say(tmp_path, monkeypatch):
    from soundscape.demo import demo_music_dir
    from soundscape.engine.checkpoint import default_path
    from soundscape.engine.sessionlog import default_log_dir
    from soundscape.room import default_room_path

    for variable in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        monkeypatch.setenv(variable, str(tmp_path / variable.lower()))
    assert default_room_path() == tmp_path / "xdg_config_home" / "soundscape" / "room.yaml"
    assert default_path() == tmp_path / "xdg_state_home" / "soundscape" / "checkpoint.json"
    assert default_log_dir() == tmp_path / "xdg_data_home" / "soundscape" / "sessions"
    assert demo_music_dir() == tmp_path / "xdg_cache_home" / "soundscape" / "demo-music-v2"
