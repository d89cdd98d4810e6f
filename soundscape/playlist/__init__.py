"""Playlist format: model, loader and value parsing."""
