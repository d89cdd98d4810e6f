"""Playback engine: decks, clock, fades, schedule and the engine thread."""
