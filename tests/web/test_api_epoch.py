"""Commands that carry the epoch the page last heard: carried out, or refused after a restart; next
phase refused while the dose phase waits; the stream's ping naming the epoch."""

from __future__ import annotations

import json

import pytest


from test_events import parse_events
from webkit import command, real_engine

RESTARTED = ("the player restarted since this page last heard from it, so nothing was done; "
             "look at the page again and tap again")
DOSE_FIRST = ("mark the dose first: phase 'Arrival' waits for the dose, and Dose given moves the "
              "session on")


def as_json(state) -> dict:
    """The state as a client decodes it (tuples become lists)."""
    return json.loads(json.dumps(state.to_json()))


# ---------------------------------------------------------------- against the engine double (epoch "e1")

def test_a_command_with_the_current_epoch_is_carried_out(client, engine):
    response = client.post("/api/commands", json={"action": "pause", "by": "Ana", "epoch": "e1"})
    assert response.status_code == 200 and response.json["ok"] is True
    [command] = engine.commands
    assert command.action.value == "pause" and command.params == {}  # the epoch is no parameter


def test_a_command_without_an_epoch_is_carried_out_as_before(client, engine):
    response = client.post("/api/commands", json={"action": "set_level", "level": 40})
    assert response.status_code == 200
    [command] = engine.commands
    assert command.params == {"level": 40.0}


@pytest.mark.parametrize("epoch", ["e0", "", "E1", "e1 "])
def test_a_command_from_before_a_restart_is_refused_and_not_carried_out(client, engine, epoch):
    entries = engine.log_entries()
    response = client.post("/api/commands", json={"action": "stop", "epoch": epoch})
    assert response.status_code == 409
    assert response.json == {"error": RESTARTED, "state": as_json(engine.snapshot())}
    assert engine.commands == []
    assert engine.log_entries() == entries


@pytest.mark.parametrize("epoch", [7, 1.5, True, False, ["e1"], {"e": "e1"}])
def test_an_epoch_that_is_not_a_string_is_400(client, engine, epoch):
    response = client.post("/api/commands", json={"action": "stop", "epoch": epoch})
    assert response.status_code == 400
    assert response.json == {"error": "'epoch' must be a string (the state's epoch)"}
    assert engine.commands == []


# ---------------------------------------------------------------- the real engine, on a fake clock

def commands_logged(engine) -> list[str]:
    return [e["action"] for e in engine.log_entries() if e["event"] == "command"]


def test_the_real_engine_takes_its_own_epoch_and_refuses_another(real, tmp_path):
    client, engine = real
    epoch = client.get("/api/state").json["epoch"]
    assert epoch == engine.snapshot().epoch and epoch
    assert command(client, "start", epoch=epoch).status_code == 200
    # the page last heard from an earlier server start: its epoch is another engine's
    earlier = real_engine(fake_clock=True, log_dir=tmp_path / "earlier")
    try:
        stale = earlier.snapshot().epoch
    finally:
        earlier.shutdown(fade=False)
    assert stale != epoch
    before = engine.log_entries()
    response = command(client, "stop", epoch=stale)
    assert response.status_code == 409
    assert response.json["error"] == RESTARTED
    assert response.json["state"] == as_json(engine.snapshot())
    assert response.json["state"]["status"] == "playing" and response.json["state"]["ending"] is False
    assert engine.log_entries() == before  # not carried out, not even tried
    assert commands_logged(engine) == ["start"]
    assert command(client, "pause").status_code == 200  # without an epoch: as before
    assert commands_logged(engine) == ["start", "pause"]


def test_the_real_engine_refuses_next_phase_while_the_dose_phase_waits(real):
    client, engine = real
    state = command(client, "start").json["state"]
    assert state["medicine"]["awaiting_dose"] is True and state["total_open"] is True
    response = command(client, "next_phase", epoch=state["epoch"])
    assert response.status_code == 409
    assert response.json["error"] == DOSE_FIRST
    assert response.json["error"].startswith("mark the dose first")
    assert response.json["state"] == as_json(engine.snapshot())
    assert response.json["state"]["phase"]["name"] == "Arrival"
    dosed = command(client, "dose")
    assert dosed.status_code == 200 and dosed.json["state"]["phase"]["name"] == "Journey"
    assert dosed.json["state"]["total_open"] is False
    moved = command(client, "next_phase")
    assert moved.status_code == 200 and moved.json["state"]["phase"]["name"] == "Return"


def test_the_stream_pings_with_the_engines_epoch_and_revision(real):
    client, engine = real
    response = client.get("/api/events", buffered=False)
    try:
        chunks = iter(response.response)
        assert next(chunks) == b"retry: 1000\n\n"
        [first] = parse_events(next(chunks).decode())
        assert first["event"] == "state"
        [ping] = parse_events(next(chunks).decode())  # nothing changes: the heartbeat is next
    finally:
        response.close()
    state = engine.snapshot()
    assert ping["event"] == "ping"
    assert json.loads(ping["data"]) == {"epoch": state.epoch, "revision": state.revision}
    assert int(first["id"]) == state.revision
