"""The music library: which files are audio, and what their headers say (durations, cached)."""

from soundscape.library.formats import AUDIO_EXTENSIONS, is_audio_name
from soundscape.library.headers import Probe, durations, probe

__all__ = ["AUDIO_EXTENSIONS", "Probe", "durations", "is_audio_name", "probe"]
