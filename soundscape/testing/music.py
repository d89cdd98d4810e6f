"""Test music shaped like real music, in the encodings real libraries hold, written with PyAV.

A steady WAV tone starts on its first sample and stops on its last; real tracks do not. They open
with digital silence, end in a long fade and a silent tail, hide a second track behind a minute
of silence, and come as MP3 (some VBR files without the Xing header that tells their length), AAC
in .m4a, Opus, Vorbis, 24-bit FLAC, mono or 5.1 WAV. Gap trimming, durations and level checks must
hold on such files, so these are encoded by the real encoders of PyAV's FFmpeg libraries (not the
ffmpeg CLI, which a test machine may lack), with their real encoder delay and padding.

What is in a file is a ``Shape`` (in seconds, before encoding); how it is encoded is a ``Format``.
The music is one tone per track, so a recording can tell which track is playing (see
``soundscape.testing.audio.tone_amplitudes``), with a slow wobble so that it is not a test tone
and a faint breath of noise so that lossy encoders spend bits on it as they do on music.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from soundscape.testing.audio import soft_edges

FF_QP2LAMBDA = 118  # FFmpeg's global_quality is in lambda units: LAME's -V q is q * this
FADE_FLOOR_DB = -60.0  # a fade-out falls linearly in dB to this far below the level, then stops
WOBBLE_DB = 1.0  # the music's level swings this far either side of level_dbfs ...
WOBBLE_HZ = 0.25  # ... this slowly, like phrasing (and it averages out over whole seconds)
# A faint breath of noise under the tone, this far below it. A pure tone costs LAME's VBR about
# 36 kbps, the same in every frame, so a "VBR" file of it would be CBR in all but name; with the
# breath it varies like music (about 96 kbps at -V 2). The tone still dominates every DFT bin.
BREATH_DB = -40.0
COVER_SIZE = 16  # pixels, square
LAYOUTS = {1: "mono", 2: "stereo", 6: "5.1"}
LFE = 3  # the LFE channel of 5.1 in FFmpeg's order: FL FR FC LFE BL BR


@dataclass(frozen=True)
class Shape:
    """What is in a file, in seconds, before encoding: silence, music, a fade, a hidden gap."""

    lead_s: float = 0.0  # digital silence before the music
    music_s: float = 10.0  # audible music: a tone with a slow wobble, RMS about level_dbfs
    fade_s: float = 0.0  # the last fade_s of the music fades out (linear in dB, to -60 dB)
    tail_s: float = 0.0  # digital silence after the music
    gap_at_s: float | None = None  # a silence inside the music (a hidden track) starts this
    gap_s: float = 0.0  # far into the music, and lasts this long
    freq_hz: float = 440.0
    level_dbfs: float = -18.0

    def __post_init__(self):
        if self.fade_s > self.music_s:
            raise ValueError(f"fade_s {self.fade_s} is longer than music_s {self.music_s}")
        if self.gap_at_s is not None and not 0 < self.gap_at_s < self.music_s:
            raise ValueError(f"gap_at_s {self.gap_at_s} must fall inside music_s {self.music_s}")

    @property
    def duration_s(self) -> float:
        return self.lead_s + self.music_s + self.gap_s + self.tail_s

    @property
    def audible_start_s(self) -> float:
        return self.lead_s

    @property
    def audible_end_s(self) -> float:
        return self.lead_s + self.music_s + self.gap_s


@dataclass(frozen=True)
class Format:
    """How a file is encoded: the PyAV encoder and muxer, and the settings that matter.

    ``sample_format`` is what the encoder takes (``s32`` is full-scale 32-bit: FLAC and
    pcm_s24le keep its top 24 bits). ``vbr_quality`` is LAME's -V (0 best .. 9), or the quality of
    FFmpeg's own Vorbis encoder (higher is better; libvorbis is not in PyAV's wheels).
    ``write_xing=False`` leaves out the Xing/Info frame that tells players an MP3's true length
    and encoder delay, as many old rips do: players must then estimate from the bit rate.
    """

    name: str
    suffix: str
    codec: str
    rate: int = 44100
    channels: int = 2
    sample_format: str = "fltp"
    bit_rate: int | None = None
    vbr_quality: float | None = None
    write_xing: bool = True
    muxer: str | None = None  # None: FFmpeg picks it from the suffix


def _formats(*formats: Format) -> dict[str, Format]:
    return {f.name: f for f in formats}


FORMATS: dict[str, Format] = _formats(
    Format("mp3-cbr", ".mp3", "libmp3lame", bit_rate=192_000),
    Format("mp3-vbr", ".mp3", "libmp3lame", vbr_quality=2),
    Format("mp3-vbr-noxing", ".mp3", "libmp3lame", vbr_quality=2, write_xing=False),
    Format("aac-m4a", ".m4a", "aac", bit_rate=160_000, muxer="ipod"),
    Format("aac-m4a-5.1", ".m4a", "aac", channels=6, bit_rate=384_000, muxer="ipod"),
    Format("opus", ".opus", "libopus", rate=48000, sample_format="flt", bit_rate=128_000),
    Format("vorbis", ".ogg", "vorbis", vbr_quality=5),
    Format("flac", ".flac", "flac", sample_format="s16"),
    Format("flac-24-96", ".flac", "flac", rate=96000, sample_format="s32"),
    Format("wav-mono-22k", ".wav", "pcm_s16le", rate=22050, channels=1, sample_format="s16"),
    Format("wav-5.1", ".wav", "pcm_s16le", channels=6, sample_format="s16"),
)


def _frames(seconds: float, rate: int) -> int:
    return round(seconds * rate)


def samples(shape: Shape, rate: int, channels: int) -> np.ndarray:
    """The file's content as float32 (frames, channels), full scale 1.0: what encode() feeds.

    Every channel carries the same music, except the LFE channel of 5.1: as in real mixes it
    carries no tone above bass (AAC low-passes it at 120 Hz anyway). Each stretch of music has 5 ms raised-cosine edges so
    that nothing clicks, and the silences are exact zeros (digital silence, as rippers write it).
    The breath noise is seeded by the tone, so the same shape always gives the same samples.
    """
    t = np.arange(_frames(shape.music_s, rate)) / rate
    breath = np.random.default_rng(int(shape.freq_hz)).standard_normal(len(t))
    gain_db = WOBBLE_DB * np.sin(2 * np.pi * WOBBLE_HZ * t)
    fade = _frames(shape.fade_s, rate)
    if fade:
        gain_db[len(t) - fade:] += np.linspace(0.0, FADE_FLOOR_DB, fade)
    peak = np.sqrt(2) * 10 ** (shape.level_dbfs / 20)  # a sine's RMS is its peak / sqrt(2)
    tone = np.sin(2 * np.pi * shape.freq_hz * t)
    music = peak * 10 ** (gain_db / 20) * (tone + breath * 10 ** (BREATH_DB / 20) / np.sqrt(2))
    split = len(t) if shape.gap_at_s is None else _frames(shape.gap_at_s, rate)
    mono = np.concatenate([
        np.zeros(_frames(shape.lead_s, rate)),
        soft_edges(music[:split], rate),
        np.zeros(_frames(shape.gap_s, rate)),
        soft_edges(music[split:], rate),
        np.zeros(_frames(shape.tail_s, rate)),
    ])
    pcm = np.repeat(mono[:, None], channels, axis=1).astype(np.float32)
    if channels == 6:
        pcm[:, LFE] = 0.0
    return pcm


def _to_frames(pcm: np.ndarray, fmt: Format, frame_size: int):
    """Audio frames in the encoder's own sample format, ``frame_size`` long (the last shorter),
    each stamped with its first sample's index as pts (time base 1/rate)."""
    if fmt.sample_format.startswith("s16"):
        pcm = np.clip(np.round(pcm * 32767), -32768, 32767).astype(np.int16)
    elif fmt.sample_format.startswith("s32"):
        pcm = np.clip(np.round(pcm * 8388607), -8388608, 8388607).astype(np.int32) << 8
    for start in range(0, len(pcm), frame_size):
        chunk = pcm[start:start + frame_size]
        # Planar formats take (channels, frames); packed ones one row of interleaved samples.
        array = chunk.T if fmt.sample_format.endswith("p") else chunk.reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(array),
                                           format=fmt.sample_format, layout=LAYOUTS[fmt.channels])
        frame.sample_rate = fmt.rate
        frame.pts = start
        frame.time_base = Fraction(1, fmt.rate)
        yield frame


def encode(path: Path, shape: Shape, fmt: Format, *, title: str | None = None,
           cover_art: bool = False) -> Path:
    """Write ``shape`` encoded as ``fmt`` to ``path`` (folders made), tagged with ``title``.

    ``cover_art`` embeds a small PNG, where a library keeps it: APIC in ID3 (MP3, WAV), covr in
    MP4, a PICTURE block in FLAC, METADATA_BLOCK_PICTURE in Ogg (Vorbis, Opus).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    muxer_options = {} if fmt.write_xing else {"write_xing": "0"}
    with av.open(str(path), "w", format=fmt.muxer, container_options=muxer_options) as out:
        if title is not None:
            out.metadata["title"] = title
        stream = out.add_stream(fmt.codec, rate=fmt.rate, layout=LAYOUTS[fmt.channels])
        context = stream.codec_context
        context.format = fmt.sample_format
        context.time_base = Fraction(1, fmt.rate)
        if fmt.bit_rate is not None:
            context.bit_rate = fmt.bit_rate
        options = {}
        if fmt.vbr_quality is not None:
            # Raw AVOptions, in FFmpeg's own units: PyAV 18's global_quality property already
            # multiplies by FF_QP2LAMBDA (and takes only integers); older PyAV did not.
            lambdas = round(fmt.vbr_quality * FF_QP2LAMBDA)
            options.update(flags="+qscale", global_quality=str(lambdas))
        if av.Codec(fmt.codec, "w").experimental:
            options["strict"] = "experimental"  # FFmpeg's own Vorbis encoder
        context.options = options
        context.open()
        # The frame size is known once the encoder is open; PCM and FLAC take any size.
        for frame in _to_frames(samples(shape, fmt.rate, fmt.channels), fmt,
                                context.frame_size or 4096):
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))  # flush: the encoder still holds its delay's worth
    if cover_art:
        _add_cover(path, fmt)
    return path


def cover_png(size: int = COVER_SIZE) -> bytes:
    """A small PNG (a diagonal gradient), made by PyAV's PNG encoder so no imaging library is
    needed."""
    ramp = np.linspace(0, 255, size, dtype=np.float64)
    rgb = np.stack([np.add.outer(ramp, ramp) / 2, np.tile(ramp, (size, 1)),
                    np.full((size, size), 128.0)], axis=-1).astype(np.uint8)
    context = av.CodecContext.create("png", "w")
    context.width = context.height = size
    context.pix_fmt = "rgb24"
    context.time_base = Fraction(1, 1)
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
    frame.pts = 0
    return b"".join(bytes(p) for p in context.encode(frame) + context.encode(None))


def _add_cover(path: Path, fmt: Format) -> None:
    """Embed ``cover_png()`` as the front cover, the way each container keeps pictures."""
    from mutagen.flac import FLAC, Picture
    from mutagen.id3 import APIC, PictureType
    from mutagen.mp3 import MP3
    from mutagen.mp4 import MP4, MP4Cover
    from mutagen.oggopus import OggOpus
    from mutagen.oggvorbis import OggVorbis
    from mutagen.wave import WAVE

    png = cover_png()
    if fmt.suffix in (".mp3", ".wav"):
        audio = MP3(path) if fmt.suffix == ".mp3" else WAVE(path)
        if audio.tags is None:
            audio.add_tags()
        audio.tags.add(APIC(encoding=3, mime="image/png", type=PictureType.COVER_FRONT,
                            desc="cover", data=png))
    elif fmt.suffix == ".m4a":
        audio = MP4(path)
        audio["covr"] = [MP4Cover(png, imageformat=MP4Cover.FORMAT_PNG)]
    elif fmt.suffix in (".flac", ".ogg", ".opus"):
        picture = Picture()
        picture.type, picture.mime, picture.data = PictureType.COVER_FRONT, "image/png", png
        picture.width = picture.height = COVER_SIZE
        picture.depth = 24
        if fmt.suffix == ".flac":
            audio = FLAC(path)
            audio.add_picture(picture)
        else:  # Ogg keeps the same FLAC picture block, base64 in a comment
            audio = OggOpus(path) if fmt.suffix == ".opus" else OggVorbis(path)
            audio["metadata_block_picture"] = [base64.b64encode(picture.write()).decode("ascii")]
    else:
        raise ValueError(f"no way to embed cover art in {fmt.suffix} ({fmt.name})")
    audio.save()


def decode(path: Path) -> tuple[np.ndarray, int]:
    """Decode a file's first audio stream with PyAV: float32 (frames, channels) and its rate.

    This is what an FFmpeg-based player hears: encoder delay and padding are trimmed where the
    file says how much (LAME's Xing tag, MP4 edit lists, Opus pre-skip, Ogg granule positions).
    """
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        rate, channels = stream.codec_context.sample_rate, stream.codec_context.channels
        to_float = av.AudioResampler(format="fltp")  # same layout and rate: no resampling
        chunks = [out.to_ndarray() for frame in container.decode(stream)
                  for out in to_float.resample(frame)]
        chunks += [out.to_ndarray() for out in to_float.resample(None)]
    pcm = np.concatenate(chunks, axis=1) if chunks else np.zeros((channels, 0))
    return pcm.T.astype(np.float32), rate


@dataclass(frozen=True)
class LibraryTrack:
    """One file of a test library: its file name (with the format's suffix) and content."""

    name: str
    shape: Shape
    fmt: Format
    cover_art: bool = False

    def __post_init__(self):
        if not self.name.endswith(self.fmt.suffix):
            raise ValueError(f"{self.name!r} must end in {self.fmt.suffix} for {self.fmt.name}")


def _track(name: str, fmt: str, freq_hz: float, lead_s: float, music_s: float, tail_s: float,
           fade_s: float = 0.0, level_dbfs: float = -18.0, cover_art: bool = False):
    shape = Shape(lead_s=lead_s, music_s=music_s, fade_s=fade_s, tail_s=tail_s, freq_hz=freq_hz,
                  level_dbfs=level_dbfs)
    return LibraryTrack(name, shape, FORMATS[fmt], cover_art)


# A small library for whole-session tests: every format, a tone of its own per track (multiples
# of 20 Hz, see audio.tone_amplitudes), leads and tails of 0, 0.5, 2 and 4 s, fades of 3-6 s,
# levels from -23 to -14 dBFS. About 95 s when played back to back.
LIBRARY: tuple[LibraryTrack, ...] = (
    _track("01 Arrival.mp3", "mp3-cbr", 300, 0.0, 7, 0.5),
    _track("02 Breathing.mp3", "mp3-vbr", 500, 0.5, 8, 2.0, fade_s=4, level_dbfs=-20,
           cover_art=True),
    _track("03 Drift (old rip).mp3", "mp3-vbr-noxing", 700, 2.0, 6, 0.0, level_dbfs=-14),
    _track("04 Tide.m4a", "aac-m4a", 900, 0.0, 7, 4.0, fade_s=6),
    _track("05 Lanterns.opus", "opus", 1100, 4.0, 5, 0.5),
    _track("06 Moss.ogg", "vorbis", 1300, 0.5, 6, 0.0, fade_s=3, level_dbfs=-16),
    _track("07 Stillness.flac", "flac", 1500, 0.0, 5, 2.0, level_dbfs=-23),
    _track("Récit — ouverture 01.flac", "flac-24-96", 1700, 2.0, 8, 0.5, fade_s=5),
    _track("09 Low tide (mono).wav", "wav-mono-22k", 1900, 0.5, 5, 4.0),
    _track("10 Surround.wav", "wav-5.1", 2100, 0.0, 6, 0.0, fade_s=3),
    _track("11 Surround.m4a", "aac-m4a-5.1", 2300, 4.0, 5, 0.0, level_dbfs=-20),
)

# A hidden track: 4 s of music, 20 s of digital silence, 4 s more, in one FLAC file.
HIDDEN_TRACK = LibraryTrack(
    "12 Hidden track.flac",
    Shape(music_s=8.0, gap_at_s=4.0, gap_s=20.0, freq_hz=2500.0), FORMATS["flac"])


def write_library(folder: Path, tracks: tuple[LibraryTrack, ...] = LIBRARY) -> list[Path]:
    """Encode ``tracks`` into ``folder``, each titled with its file name's stem; the paths in
    order."""
    return [encode(Path(folder) / t.name, t.shape, t.fmt, title=Path(t.name).stem,
                   cover_art=t.cover_art) for t in tracks]
