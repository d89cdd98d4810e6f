"""Playlist format: model, loader and value parsing."""

from soundscape.errors import PlaylistError
from soundscape.playlist.loader import check_file, load_playlist

__all__ = ["PlaylistError", "check_file", "load_playlist"]
