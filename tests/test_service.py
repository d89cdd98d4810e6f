"""The systemd unit: systemd's own checker accepts it, install/uninstall/status drive systemctl.

systemd is not PID 1 here, so systemctl and loginctl are replaced by a recorder; the unit itself
is checked by ``systemd-analyze --user verify``, which loads it as the user manager would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from soundscape import service
from soundscape.cli.main import main
from soundscape.errors import SoundscapeError

ROOT = Path(__file__).resolve().parent.parent
PLAYLIST = ROOT / "playlists" / "demo.yaml"


def verify(unit: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    """systemd-analyze's verdict. It exits 0 even for unknown keys and values it ignores, so its
    complaints on stderr count too (see the test below that proves it can fail)."""
    if shutil.which("systemd-analyze") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("systemd-analyze is missing (make test installs systemd)")
        pytest.skip("systemd-analyze is not installed (apt install systemd)")
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    return subprocess.run(["systemd-analyze", "--user", "verify", str(unit)], capture_output=True,
                          text=True, timeout=60,
                          env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)})


def shown_unit(capsys, *args: str) -> str:
    assert main(["service", "show", *args]) == 0
    return capsys.readouterr().out


def test_the_unit_passes_systemds_own_checker(tmp_path, capsys):
    unit = tmp_path / "soundscape.service"
    unit.write_text(shown_unit(capsys, str(PLAYLIST)))
    done = verify(unit, tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    text = unit.read_text()
    assert f"ExecStart={sys.executable} -m soundscape serve {PLAYLIST} --resume auto\n" in text
    for line in ("Type=notify", "Restart=always", "WatchdogSec=30", "StartLimitIntervalSec=0",
                 "WantedBy=default.target", "SyslogIdentifier=soundscape"):
        assert f"\n{line}\n" in text


def test_the_checker_can_fail(tmp_path, capsys):
    unit = tmp_path / "soundscape.service"
    unit.write_text(shown_unit(capsys).replace("Restart=always", "Restart=alwayz"))
    done = verify(unit, tmp_path)
    assert "Failed to parse service restart specifier" in done.stderr


def test_awkward_paths_are_quoted_as_systemd_reads_them(tmp_path, capsys):
    folder = tmp_path / "Group 50% $HOME"
    folder.mkdir()
    playlist = folder / "arc.yaml"
    playlist.write_text(PLAYLIST.read_text())
    text = shown_unit(capsys, str(playlist))
    assert f'serve "{str(playlist).replace("%", "%%").replace("$", "$$")}" --resume' in text
    unit = tmp_path / "soundscape.service"
    unit.write_text(text)
    done = verify(unit, tmp_path)
    assert (done.returncode, done.stderr) == (0, "")


def test_the_installing_shells_folders_go_with_the_unit(tmp_path):
    text = service.unit_text(["/bin/true"], {"XDG_STATE_HOME": str(tmp_path / "state"),
                                             "XDG_DATA_HOME": "/srv/50% $HOME",
                                             "XDG_CONFIG_HOME": "relative/ignored"})
    assert f"\nEnvironment=XDG_STATE_HOME={tmp_path / 'state'}\n" in text
    assert '\nEnvironment="XDG_DATA_HOME=/srv/50%% $HOME"\n' in text  # $ is not expanded there
    assert "XDG_CONFIG_HOME" not in text
    unit = tmp_path / "soundscape.service"
    unit.write_text(text)
    done = verify(unit, tmp_path)
    assert (done.returncode, done.stderr) == (0, "")


def test_a_playlist_with_mistakes_is_refused_before_anything_is_written(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: x\nphases: 3\n")
    assert main(["service", "install", str(bad)]) == 1
    assert capsys.readouterr().err.startswith(f"{bad}:2:9: ")


class Systemd:
    """systemctl and loginctl as a recorder; ``answers`` maps a command's words to a result."""

    def __init__(self, **answers):
        self.calls: list[list[str]] = []
        self.answers = answers

    def __call__(self, cmd):
        self.calls.append(list(cmd))
        key = " ".join(cmd[2:] if cmd[0] == "systemctl" else cmd[:2])
        return self.answers.get(key, service.Ran(0, "", ""))


def test_install_writes_lingers_enables_and_starts(tmp_path):
    unit = tmp_path / "user" / "soundscape.service"
    systemd = Systemd(**{"is-active --quiet soundscape.service": service.Ran(3, "", "")})
    done = service.install("[Unit]\n", systemd, unit)
    assert unit.read_text() == "[Unit]\n"
    user = service._user()
    assert systemd.calls == [
        ["loginctl", "enable-linger", user],
        ["systemctl", "--user", "is-active", "--quiet", "soundscape.service"],
        ["systemctl", "--user", "daemon-reload"],
        ["systemctl", "--user", "enable", "--now", "soundscape.service"]]
    assert done == [f"wrote {unit}",
                    f"lingering on for {user}: the service starts at boot, before anyone logs in",
                    "enabled and started soundscape.service"]


def test_reinstalling_never_restarts_a_running_session(tmp_path):
    unit = tmp_path / "soundscape.service"
    unit.write_text("old\n")
    systemd = Systemd()  # is-active answers 0: running
    done = service.install("new\n", systemd, unit)
    assert ["systemctl", "--user", "restart", "soundscape.service"] not in systemd.calls
    assert done[-1].startswith("it was already running and keeps its old settings")


def test_no_user_manager_is_a_plain_error_with_the_fix(tmp_path):
    systemd = Systemd(**{"daemon-reload": service.Ran(
        1, "", "Failed to connect to bus: No medium found\n")})
    with pytest.raises(SoundscapeError) as caught:
        service.install("[Unit]\n", systemd, tmp_path / "soundscape.service")
    user = service._user()
    assert str(caught.value) == (
        "systemctl --user daemon-reload failed: systemd's user manager did not answer (Failed to "
        f"connect to bus: No medium found). It runs while {user} is logged in, or always once "
        f"lingering is on: run `sudo loginctl enable-linger {user}`, log in as {user} (not with "
        "su), then run soundscape service install again")


def test_lingering_refused_is_a_warning_with_the_fix(tmp_path):
    systemd = Systemd(**{"loginctl enable-linger": service.Ran(1, "", "Access denied\n")})
    done = service.install("[Unit]\n", systemd, tmp_path / "soundscape.service")
    assert done[1] == (f"WARNING: lingering could not be turned on (Access denied): the service "
                       f"starts only once {service._user()} logs in; fix: sudo loginctl "
                       f"enable-linger {service._user()}")


def test_uninstall_stops_removes_and_reloads(tmp_path):
    unit = tmp_path / "soundscape.service"
    assert service.uninstall(Systemd(), unit) == [f"not installed ({unit} does not exist)"]
    unit.write_text("[Unit]\n")
    systemd = Systemd()
    done = service.uninstall(systemd, unit)
    assert not unit.exists()
    assert systemd.calls == [["systemctl", "--user", "disable", "--now", "soundscape.service"],
                             ["systemctl", "--user", "daemon-reload"]]
    assert done[:2] == ["stopped (the music faded out) and disabled", f"removed {unit}"]


def test_status_says_what_boot_will_do(tmp_path):
    unit = tmp_path / "soundscape.service"
    assert service.status(Systemd(), unit)[1] is False
    unit.write_text("[Unit]\n")
    well = Systemd(**{"is-enabled soundscape.service": service.Ran(0, "enabled\n", ""),
                      "is-active soundscape.service": service.Ran(0, "active\n", ""),
                      "loginctl show-user": service.Ran(0, "yes\n", "")})
    assert service.status(well, unit) == ([
        f"unit: {unit}", "enabled: enabled", "running: active",
        "starts at boot without a login: yes"], True)
    failed = Systemd(**{"is-enabled soundscape.service": service.Ran(0, "enabled\n", ""),
                        "is-active soundscape.service": service.Ran(3, "failed\n", ""),
                        "loginctl show-user": service.Ran(0, "no\n", "")})
    lines, ok = service.status(failed, unit)
    assert not ok and lines[2:] == [
        "running: failed", "starts at boot without a login: no",
        "its last words: journalctl --user -u soundscape -n 30",
        f"fix: sudo loginctl enable-linger {service._user()}"]


def test_a_service_that_will_not_start_is_not_blamed_on_the_user_manager(tmp_path):
    systemd = Systemd(**{"enable --now soundscape.service": service.Ran(
        1, "", 'Job for soundscape.service failed. See "systemctl --user status" for details.\n')})
    with pytest.raises(SoundscapeError) as caught:
        service.install("[Unit]\n", systemd, tmp_path / "soundscape.service")
    assert str(caught.value) == (
        'the unit is installed and enabled, but it did not start (Job for soundscape.service '
        'failed. See "systemctl --user status" for details.); why: journalctl --user -u '
        "soundscape -n 30, then soundscape doctor")


@pytest.mark.skipif(os.geteuid() != 0, reason="root only: the refusal of root")
def test_root_is_told_to_install_as_the_rooms_user(capsys):
    assert main(["service", "install", str(PLAYLIST)]) == 1
    assert capsys.readouterr().err.startswith(
        "error: run soundscape service install as the user who runs the room, not as root")
