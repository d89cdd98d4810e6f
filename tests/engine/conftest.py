"""Fixtures for engine tests (the builders live in engine_rig.py)."""

from engine_rig import rig_factory  # noqa: F401 - a fixture, re-exported for pytest
