"""Draw the page's app icons (soundscape/web/static/icon-192.png, icon-512.png).

Run once when the design changes: ``.venv/bin/python web/make_icons.py``. The icon is the page's
own mark (icon.svg): a dim teal wave on black, drawn anti-aliased with numpy and
written as PNG with the standard library, so no image library is needed.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

STATIC = Path(__file__).resolve().parents[1] / "soundscape" / "web" / "static"
TEAL = np.array([95, 143, 131], dtype=float)


def draw(size: int) -> np.ndarray:
    """RGB pixels of icon.svg's wave on black, a maskable icon (all of it in the middle 80 %)."""
    unit = size / 32.0  # icon.svg's coordinates
    y, x = (np.mgrid[0:size, 0:size] + 0.5) / unit
    xs = np.linspace(4.0, 28.0, 400)
    ys = 17.0 - 4.5 * np.sin(np.pi * (xs - 4.0) / 8.0)  # the path: up, down, up, down
    distance = np.full(x.shape, np.inf)
    for px, py in zip(xs, ys):
        distance = np.minimum(distance, np.hypot(x - px, y - py))
    alpha = np.clip((1.25 - distance) * unit + 0.5, 0, 1)  # stroke 2.5, round caps
    return (alpha[..., None] * TEAL).round().astype(np.uint8)


def png(pixels: np.ndarray) -> bytes:
    height, width, _ = pixels.shape
    raw = b"".join(b"\x00" + pixels[row].tobytes() for row in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


if __name__ == "__main__":
    for size in (192, 512):
        (STATIC / f"icon-{size}.png").write_bytes(png(draw(size)))
        print(f"icon-{size}.png")
