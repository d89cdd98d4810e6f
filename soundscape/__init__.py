"""soundscape: music and ambience controller for group ketamine-assisted therapy sessions."""

__version__ = "0.1.0"
