"""The room's lasting token: made once, owner-only, the same on every start, replaced on rotate."""

from __future__ import annotations

import stat

import pytest

from soundscape import roomtoken
from soundscape.cli.main import main
from soundscape.errors import SoundscapeError


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_made_once_owner_only_then_the_same_on_every_start(home):
    path = roomtoken.default_path()
    assert path == home / "state" / "soundscape" / "token"
    token, made = roomtoken.load()
    assert made and len(token) >= 22
    assert mode(path) == 0o600
    assert roomtoken.load() == (token, False)
    assert roomtoken.load() == (token, False)


def test_rotate_replaces_it(home):
    first, _ = roomtoken.load()
    second = roomtoken.rotate()
    assert second != first
    assert roomtoken.load() == (second, False)
    assert mode(roomtoken.default_path()) == 0o600
    assert not list(roomtoken.default_path().parent.glob(".token.*"))  # no temporary left


def test_a_token_readable_by_others_is_made_private(home):
    token, _ = roomtoken.load()
    roomtoken.default_path().chmod(0o644)
    assert roomtoken.load() == (token, False)
    assert mode(roomtoken.default_path()) == 0o600


def test_a_damaged_file_is_a_plain_error_naming_it(home):
    path = roomtoken.default_path()
    path.parent.mkdir(parents=True)
    path.write_text("not a token!\n")
    with pytest.raises(SoundscapeError) as error:
        roomtoken.load()
    assert str(error.value).startswith(f"{path}: not a soundscape token")
    assert "soundscape token --rotate" in str(error.value)


def test_a_state_folder_that_cannot_be_written_is_a_plain_error(home):
    (home / "state").write_text("a file where the folder should be")
    with pytest.raises(SoundscapeError, match=r"^.*token: cannot read the room's token: Not a directory"):
        roomtoken.load()


def test_the_token_command_shows_the_lasting_link_and_rotate_says_rejoin(home, capsys):
    assert main(["token", "--port", "8700"]) == 0
    out = capsys.readouterr().out
    token = roomtoken.default_path().read_text().strip()
    assert "A new token was made and saved in" in out
    assert f":8700/?token={token}" in out
    assert main(["token"]) == 0
    assert "The room token is in" in capsys.readouterr().out
    assert main(["token", "--rotate"]) == 0
    out = capsys.readouterr().out
    new = roomtoken.default_path().read_text().strip()
    assert new != token and f"/?token={new}" in out
    assert "Every phone must open the new link" in out
