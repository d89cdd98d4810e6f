"""Decoding a whole file to samples with FFmpeg's decoders (PyAV), in bounded blocks.

Analysis must read every format libVLC plays: MP3 (CBR, VBR, with or without a Xing header), AAC
in M4A, Opus, Vorbis, FLAC up to 24-bit/96 kHz, WAV, 5.1. libsndfile lacks AAC, so PyAV (FFmpeg's
own libraries in a binary wheel, the decoders libVLC itself uses) does the decoding. Only the first
audio stream is read: cover art (an attached picture, a video stream) is never decoded.

A damaged packet is skipped, as players skip it (counted in ``Decoding.damaged``); a file that
stops decoding part-way (truncated, or a long run of damage) yields what it had and records why in
``Decoding.stopped``: the caller decides whether what decoded is enough.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

BLOCK_FRAMES = 65536  # frames handed on at a time (about 1.5 s at 44.1 kHz)
MAX_BAD_PACKETS_IN_ROW = 50  # this many undecodable packets one after another end a decode
# PyAV's sample formats and the scale that brings their integers to -1..1.
_INT_SCALE = {"s16": 32768.0, "s16p": 32768.0, "s32": 2147483648.0, "s32p": 2147483648.0,
              "u8": 128.0, "u8p": 128.0, "s64": 9223372036854775808.0,
              "s64p": 9223372036854775808.0}


class DecodeError(Exception):
    """A file that cannot be decoded at all; the message is the reason shown to the user."""


@dataclass
class Decoding:
    """An open decoding: its format, its blocks (read once), and, after them, what was decoded."""

    rate: int
    channels: int
    blocks: Iterator[np.ndarray]  # float32, shaped (frames, channels)
    frames: int = 0  # frames decoded so far (all of them once ``blocks`` is exhausted)
    stopped: str | None = None  # why decoding stopped before the end of the file, if it did
    damaged: int = 0  # damaged packets skipped on the way

    @property
    def decoded_s(self) -> float:
        return self.frames / self.rate if self.rate else 0.0


def _reason(exc: BaseException) -> str:
    """FFmpeg's own words ("Invalid data found when processing input"), without the path."""
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return str(text).split(": '")[0].strip()


def _to_float(frame) -> np.ndarray:
    """One decoded frame as float32 (frames, channels), whatever PyAV's sample format."""
    data = frame.to_ndarray()
    name = frame.format.name
    if frame.format.is_planar:
        data = data.T  # (channels, frames) -> (frames, channels)
    else:
        data = data.reshape(-1, len(frame.layout.channels))
    if name in _INT_SCALE:
        offset = 128.0 if name.startswith("u8") else 0.0
        return ((data.astype(np.float32) - offset) / _INT_SCALE[name]).astype(np.float32)
    return data.astype(np.float32, copy=False)


def open_decoding(path: str | os.PathLike, block_frames: int = BLOCK_FRAMES) -> Decoding:
    """Open ``path`` for decoding; raises DecodeError when nothing in it can be decoded as audio."""
    import av  # imported here: commands that never decode start faster without it

    path = Path(path)
    if path.is_dir():
        raise DecodeError("it is a folder, not a file")
    try:
        container = av.open(os.fspath(path), metadata_errors="ignore")
    except (FileNotFoundError, PermissionError, IsADirectoryError) as exc:
        raise DecodeError(f"cannot read it ({exc.strerror or exc})") from exc
    except (av.FFmpegError, OSError) as exc:
        raise DecodeError(f"not audio (FFmpeg: {_reason(exc)})") from exc
    if not container.streams.audio:
        container.close()
        raise DecodeError("it has no audio stream")
    stream = container.streams.audio[0]
    ctx = stream.codec_context
    rate, channels = int(ctx.sample_rate or 0), int(ctx.channels or 0)
    if rate <= 0 or channels <= 0:
        container.close()
        raise DecodeError("not audio (FFmpeg finds no sample rate or channels in it)")
    decoding = Decoding(rate, channels, iter(()))

    def blocks() -> Iterator[np.ndarray]:
        pending: list[np.ndarray] = []
        held = 0
        try:
            packets = container.demux(stream)
            bad_in_row, last_error = 0, None
            while True:
                try:
                    packet = next(packets)
                except StopIteration:
                    break
                except av.FFmpegError as exc:  # the container itself is broken here
                    decoding.stopped = f"decoding stopped: {_reason(exc)}"
                    break
                try:
                    frames = packet.decode()
                    if packet.size:  # not the flush packet at the end
                        bad_in_row = 0
                except av.FFmpegError as exc:
                    # A damaged packet: players skip it and go on (libVLC does), and so does
                    # the analysis; only a long run of them ends it.
                    decoding.damaged += 1
                    bad_in_row += 1
                    last_error = exc
                    if bad_in_row >= MAX_BAD_PACKETS_IN_ROW:
                        decoding.stopped = f"decoding stopped: {_reason(exc)}"
                        break
                    continue
                for frame in frames:
                    samples = _to_float(frame)
                    if samples.shape[1] != channels:  # a stream that changes layout: keep going
                        samples = _match_channels(samples, channels)
                    decoding.frames += len(samples)
                    pending.append(samples)
                    held += len(samples)
                    if held >= block_frames:
                        yield np.concatenate(pending)
                        pending, held = [], 0
            if bad_in_row and decoding.stopped is None:  # damaged to the end: cut short
                decoding.stopped = f"decoding stopped: {_reason(last_error)}"
            if pending:
                yield np.concatenate(pending)
        finally:
            container.close()

    decoding.blocks = blocks()
    return decoding


def _match_channels(samples: np.ndarray, channels: int) -> np.ndarray:
    if samples.shape[1] > channels:
        return samples[:, :channels]
    return np.pad(samples, ((0, 0), (0, channels - samples.shape[1])), mode="edge")
