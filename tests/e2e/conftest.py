"""Fixtures for end-to-end audio tests: a PulseAudio null sink named ``room`` and libVLC.

Outside CI a missing PulseAudio or libVLC skips these tests with the reason; in CI (CI=true) it
fails them, so a broken audio setup can never pass as green.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from soundscape.engine.outputs import pulse_socket_open
from soundscape.testing.audio import pulse_env


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def pulse_problem() -> str | None:
    """Why the test PulseAudio server cannot be used, or None when it can."""
    env = pulse_env()
    socket_path = os.path.join(env["XDG_RUNTIME_DIR"], "pulse", "native")
    if not pulse_socket_open([socket_path]):  # never let pactl autospawn a server of its own
        return (f"no PulseAudio server listens at {socket_path}; "
                "start one with scripts/pulse-start.sh (make pulse)")
    try:
        info = subprocess.run(["pactl", "info"], capture_output=True, text=True, timeout=5, env=env)
        sinks = subprocess.run(["pactl", "list", "short", "sinks"], capture_output=True, text=True,
                               timeout=5, env=env)
    except FileNotFoundError:
        return "pactl not found: install pulseaudio-utils"
    except subprocess.TimeoutExpired:
        return f"PulseAudio at XDG_RUNTIME_DIR={env['XDG_RUNTIME_DIR']} did not answer in 5 s"
    if info.returncode != 0:
        return (f"no PulseAudio server at XDG_RUNTIME_DIR={env['XDG_RUNTIME_DIR']} "
                f"({'; '.join(info.stderr.split(chr(10))).strip('; ')}); "
                "start one with scripts/pulse-start.sh (make pulse)")
    if not any(line.split("\t")[1:2] == ["room"] for line in sinks.stdout.splitlines()):
        return ("PulseAudio has no sink named 'room'; "
                "start it with scripts/pulse-start.sh (make pulse)")
    return None


@pytest.fixture(scope="session")
def vlc_available() -> None:
    try:
        import vlc

        instance = vlc.Instance(["--quiet", "--no-video"])
    except (ImportError, OSError) as exc:
        _unavailable(f"libVLC is not usable: {exc}")
    else:
        if instance is None:
            _unavailable("libVLC is installed but vlc.Instance() failed (missing plugins?)")
        instance.release()


@pytest.fixture(scope="session")
def pulse(vlc_available) -> dict[str, str]:
    """The environment of the test PulseAudio server (and XDG_RUNTIME_DIR set for libVLC)."""
    problem = pulse_problem()
    if problem:
        _unavailable(problem)
    env = pulse_env()
    os.environ["XDG_RUNTIME_DIR"] = env["XDG_RUNTIME_DIR"]
    return env


@pytest.fixture
def tones(tmp_path):
    """A factory of tone files in this test's directory."""
    from soundscape.testing.audio import write_tone

    def make(freq_hz: float, duration_s: float = 3.0, amplitude: float = 0.5):
        return write_tone(tmp_path / f"tone-{freq_hz:g}.wav", freq_hz, duration_s, amplitude)

    return make
