"""Fixtures for the web layer: the engine double, the app and clients with and without token."""

from __future__ import annotations

import pytest

from soundscape.web import create_app

from webkit import FUZZ_CASES, TOKEN, FakeEngine, FakePreflight


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
def preflight() -> FakePreflight:
    return FakePreflight()


@pytest.fixture
def app(engine, preflight):
    app = create_app(engine, {"TOKEN": TOKEN, "SSE_HEARTBEAT_S": 0.05, "SSE_LIFETIME_S": 0.5,
                              "PREFLIGHT": preflight})
    app.testing = True
    return app


@pytest.fixture
def real(tmp_path):
    """A real Engine (engine thread running, dose given in Arrival) over the fake output, on a
    fake clock, behind the app; the client carries the bearer token."""
    from webkit import real_engine

    engine = real_engine(fake_clock=True, log_dir=tmp_path, medicine=True)
    app = create_app(engine, {"TOKEN": "t", "SSE_HEARTBEAT_S": 0.05, "SSE_LIFETIME_S": 0.3})
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = "Bearer t"
    yield client, engine
    engine.shutdown(fade=False)


@pytest.fixture
def anon(app):
    """A client with no credentials."""
    return app.test_client()


@pytest.fixture
def client(app):
    """A client that sends the bearer token on every request."""
    c = app.test_client()
    c.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {TOKEN}"
    return c


def pytest_terminal_summary(terminalreporter):
    """How many fuzz cases ran, so a run shows the fuzzing was not a handful of examples."""
    if FUZZ_CASES:
        terminalreporter.write_line(
            f"API fuzz: {sum(FUZZ_CASES.values())} cases ("
            + ", ".join(f"{name} {n}" for name, n in sorted(FUZZ_CASES.items())) + ")")
