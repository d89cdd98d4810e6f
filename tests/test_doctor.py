"""soundscape doctor: each check says ok, warn or FAIL with its fix, and changes nothing."""

from __future__ import annotations

import socket

import pytest

from soundscape import doctor
from soundscape.cli.main import main
from soundscape.room import Room


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("CONFIG", "STATE", "DATA", "CACHE"):
        monkeypatch.setenv(f"XDG_{name}_HOME", str(tmp_path / name.lower()))
    return tmp_path


def test_another_device_with_the_rooms_name_fails_with_the_fix():
    found = doctor.room_name_state(Room(name="Room 2"), False, lambda host: ["192.168.1.77"])
    assert found.lines() == [
        "FAIL  room name: another device answers to room-2.local (192.168.1.77)",
        "      fix: give this room another name: name: in the room config"]


def test_the_rooms_name_free_announced_or_unheard(monkeypatch):
    from soundscape import announce

    monkeypatch.setattr(announce, "own_addresses", lambda: ["192.168.1.20", "fe80::1"])
    room = Room(name="Room 2")
    assert doctor.room_name_state(room, False, lambda host: []).lines() == [
        "ok    room name: room-2.local is free: soundscape serve announces it"]
    assert doctor.room_name_state(room, True, lambda host: ["192.168.1.20"]).lines() == [
        "ok    room name: room-2.local answers (192.168.1.20)"]
    assert doctor.room_name_state(room, True, lambda host: []).level == "warn"

    def no_multicast(host):
        raise OSError(19, "No such device")
    assert doctor.room_name_state(room, False, no_multicast).level == "warn"


def test_a_port_taken_by_another_program_fails():
    with socket.socket() as other:
        other.bind(("0.0.0.0", 0))
        other.listen()
        port = other.getsockname()[1]
        found = doctor.port_state(port)
    assert found.lines() == [
        f"FAIL  port: {port} is taken by another program",
        "      fix: set port: in the room config to a free port (or stop that program)"]


def test_a_room_config_with_mistakes_fails_with_its_located_problems(home):
    room_file = home / "room.yaml"
    room_file.write_text("ceiling: loud\n")
    room, found = doctor.room_config(str(room_file))
    assert found.level == "FAIL" and found.detail.startswith(f"{room_file}:1:10: ceiling")
    assert room == Room()


def test_a_token_others_can_read_is_a_warning(home):
    from soundscape import roomtoken

    path = roomtoken.default_path()
    assert doctor.token().detail.startswith("not made yet")
    roomtoken.load(path)
    assert doctor.token().level == "ok"
    path.chmod(0o644)
    assert doctor.token().lines()[1] == \
        f"      fix: chmod 600 {path} (serve does it at its next start)"


def test_the_command_checks_the_box_and_changes_nothing(home, capsys, monkeypatch):
    (home / "config" / "soundscape").mkdir(parents=True)
    (home / "config" / "soundscape" / "room.yaml").write_text("output: none\nname: Doctor Test\n")
    monkeypatch.setattr(doctor, "who_answers", lambda host, timeout_ms=1500: [])
    def ours():  # soundscape's files (libpulse may leave its client cookie folder)
        return sorted(p.relative_to(home) for p in home.rglob("*") if "soundscape" in p.parts)
    before = ours()
    code = main(["doctor"])
    out = capsys.readouterr().out
    names = [line.split(":")[0].split(None, 1)[1] for line in out.splitlines()
             if line[:4] in ("ok  ", "warn", "FAIL")]
    assert names == ["libVLC", "decoders", "room config", "sound server", "speaker", "token",
                     "service", "port", "room name"]
    assert "ok    sound server: not needed (the room's output is none)" in out
    assert "ok    room name: doctor-test.local is free" in out
    assert code == (1 if "FAIL" in out else 0)
    assert ours() == before


def test_a_check_that_breaks_is_its_own_fail_line_and_the_others_still_run(home, monkeypatch):
    def broken():
        raise FileNotFoundError(2, "No such file or directory: 'pactl'")
    monkeypatch.setattr(doctor, "token", broken)
    findings = doctor.run_all(None, ask=lambda host: [])
    [found] = [f for f in findings if f.name == "token"]
    assert found.lines() == ["FAIL  token: could not be checked (FileNotFoundError: [Errno 2] No "
                             "such file or directory: 'pactl')"]
    assert len(findings) == 9


def test_a_failed_service_is_a_fail_pointing_at_its_journal(monkeypatch):
    from soundscape import service

    monkeypatch.setattr("shutil.which", lambda name: "/usr/bin/" + name)
    monkeypatch.setattr(service, "status", lambda: ([
        "unit: /u/soundscape.service", "enabled: enabled", "running: failed",
        "starts at boot without a login: yes",
        "its last words: journalctl --user -u soundscape -n 30"], False))
    assert doctor.service_state().lines() == [
        "FAIL  service: unit: /u/soundscape.service; enabled: enabled; running: failed; starts at "
        "boot without a login: yes",
        "      fix: its last words: journalctl --user -u soundscape -n 30"]
