"""The engine's API (soundscape/engine/api.py), held to one contract by the real engine and by the
web tests' double, so the page's tests cannot pass against something the engine does not do.

The real engine runs its thread on a fake clock: nothing moves unless a command does.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from soundscape.engine.api import EngineAPI, EngineTimeout
from soundscape.engine.commands import Action, Command, CommandResult
from soundscape.engine.state import State, Status
from soundscape.testing import FakeOutput
from soundscape.web import create_app

from webkit import TOKEN, FakeEngine, real_engine


class HangingOutput(FakeOutput):
    """An output whose next deck takes as long as the test says: a hung libVLC call."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.entered = threading.Event()
        self.release = threading.Event()
        self.hang = False

    def make_deck(self, name, notify):
        if self.hang:
            self.entered.set()
            self.release.wait(10)
        return super().make_deck(name, notify)


@pytest.fixture(params=["double", "engine"])
def api(request, tmp_path) -> EngineAPI:
    if request.param == "double":
        yield FakeEngine()
        return
    engine = real_engine(fake_clock=True, log_dir=tmp_path, output_class=HangingOutput)
    yield engine
    engine.output.release.set()
    engine.shutdown(fade=False)


def command(action: Action, **params) -> Command:
    return Command(action, params, by="contract", source="test")


def test_a_snapshot_is_the_state_and_says_what_plays(api):
    state = api.snapshot()
    assert isinstance(state, State) and state.status is Status.READY
    assert isinstance(state.revision, int)
    assert isinstance(api.playlist_path, Path)


def test_a_command_done_answers_ok_with_a_newer_state(api):
    before = api.snapshot().revision
    result, state = api.submit(command(Action.START))
    assert result == CommandResult(True)
    assert state.revision > before and state.status is Status.PLAYING
    assert api.snapshot().revision >= state.revision


def test_a_command_refused_says_why_and_changes_nothing_it_refuses(api):
    api.submit(command(Action.START))
    if isinstance(api, FakeEngine):
        api.refuse_reason = "the session has already started"
    result, state = api.submit(command(Action.START))
    assert not result.ok and result.reason == "the session has already started"
    assert state.status is Status.PLAYING


def test_waiting_for_a_change_gets_the_next_state_or_the_same_one_after_the_timeout(api):
    revision = api.snapshot().revision
    assert api.wait_for_change(revision, timeout_s=0.05).revision == revision
    done = []
    waiter = threading.Thread(target=lambda: done.append(api.wait_for_change(revision, 5.0)))
    waiter.start()
    api.submit(command(Action.START))
    waiter.join(5)
    assert done and done[0].revision > revision


def test_the_log_is_a_list_of_entries(api):
    api.submit(command(Action.START))
    entries = api.log_entries()
    assert entries and all(isinstance(e, dict) and "event" in e for e in entries)


TRACK_KEYS = {"title", "path", "intensity", "duration_s", "banned", "queued", "playing"}


def test_the_phase_tracks_are_the_current_phase_s_marked_as_the_state_says(api):
    state, listed = api.snapshot(), api.phase_tracks()
    assert listed["phase"] == state.phases[0].name  # before the start: the first phase
    assert listed["intensity"] == state.intensity
    assert listed["tracks"] and all(set(t) == TRACK_KEYS for t in listed["tracks"])
    assert all(isinstance(t["intensity"], int) and 1 <= t["intensity"] <= 5
               for t in listed["tracks"])
    assert not any(t["playing"] or t["banned"] for t in listed["tracks"])
    assert {t["intensity"] for t in listed["tracks"]} == set(state.intensities)
    api.submit(command(Action.START))
    state, listed = api.snapshot(), api.phase_tracks()
    assert listed["phase"] == state.phase.name
    assert [t["path"] for t in listed["tracks"] if t["playing"]] == [state.track.path]


def test_a_command_the_engine_does_not_take_in_time_raises_engine_timeout(api):
    hold = _hang(api)
    try:
        with pytest.raises(EngineTimeout) as err:
            api.submit(command(Action.HUSH), timeout_s=0.2)
        assert str(err.value) == ("the player did not answer in time and nothing was done; "
                                  "try again")
    finally:
        hold()


def test_the_api_answers_503_when_the_engine_times_out(api):
    app = create_app(api, {"TOKEN": TOKEN, "SUBMIT_TIMEOUT_S": 0.2})
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {TOKEN}"
    hold = _hang(api)
    try:
        response = client.post("/api/commands", json={"action": "hush"})
    finally:
        hold()
    assert response.status_code == 503
    assert response.json["error"] == ("the player did not answer in time and nothing was done; "
                                      "try again")
    assert "state" in response.json


def _hang(api):
    """Make ``api`` stop taking commands; returns the function that lets it go again."""
    if isinstance(api, FakeEngine):
        api.hung = True
        return lambda: setattr(api, "hung", False)
    # The real engine's thread is stuck in a deck call, carrying out a command of its own.
    hanging: HangingOutput = api.output
    hanging.hang = True
    stuck = threading.Thread(target=lambda: api.submit(command(Action.START), timeout_s=10))
    stuck.start()
    assert hanging.entered.wait(5), "the engine never reached the hanging deck"

    def release():
        hanging.release.set()
        stuck.join(10)
    return release


def test_a_withdrawn_command_is_never_carried_out_later(tmp_path):
    engine = real_engine(fake_clock=True, log_dir=tmp_path, output_class=HangingOutput)
    try:
        release = _hang(engine)
        with pytest.raises(EngineTimeout):
            engine.submit(command(Action.HUSH), timeout_s=0.2)
        release()  # the engine takes its queue again
        result, state = engine.submit(command(Action.PAUSE))
        assert result.ok and state.status is Status.PAUSED
        assert not state.hushed, "the withdrawn hush was carried out after all"
        actions = [e["action"] for e in engine.log_entries() if e["event"] == "command"]
        assert actions == ["start", "pause"]
    finally:
        engine.shutdown(fade=False)
