"""The room card: the room's key on an A6 card, drawn as PNG or PDF (Pillow) or HTML (inline SVG).

A new facilitator joins by scanning the card on the box, so nobody types a token in a dim room.
The big QR code carries the link by the room's name, which survives the clinic's DHCP server
giving the box a new address; the small one carries the link by address, for phones and networks
that do not resolve ``.local`` names. One layout, in millimetres, feeds all three formats, and its
text is sized once with Pillow's fonts (a long room name shrinks to fit), so the PNG the tests
decode is the layout the PDF and the HTML show.
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from pathlib import Path

import segno
from PIL import Image, ImageDraw, ImageFont

from soundscape.errors import SoundscapeError

WIDTH_MM, HEIGHT_MM = 148.0, 105.0  # A6 landscape: any printer takes it, and it fits on the box
DPI = 300  # the PNG and PDF are drawn at print resolution, so they print at the card's size
QUIET = 4  # modules of white around each QR code: the standard's quiet zone, needed to scan
LINE = 1.22  # line height, in font sizes; the same in the HTML's CSS

INSTRUCTIONS = "Facilitators: scan with the phone's camera to open the room's controls."
FALLBACK = "Name does not open? Scan this one: it goes by the box's address, which can change."
KEY_WARNING = ("This card is the room's key: anyone who scans it controls the music. Keep it with "
               "the facilitators; soundscape token --rotate makes a new one (print a new card).")

_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/TTF",
              "/usr/share/fonts/dejavu", "/usr/share/fonts/dejavu-sans-fonts")
_FONT_FILES = {"regular": "DejaVuSans.ttf", "bold": "DejaVuSans-Bold.ttf",
               "mono": "DejaVuSansMono.ttf"}


@dataclass(frozen=True)
class Card:
    """What one card says: the room's name, its two links (with the token) and the day it was made."""

    room: str
    name_url: str
    address_url: str
    made: date


@dataclass(frozen=True)
class Text:
    """A block of text in a box, in mm from the card's top-left corner; ``size`` is the em in mm.

    ``\\n`` starts a new line; ``wrap=False`` keeps the text on one line (the room's name).
    """

    x: float
    y: float
    w: float
    h: float
    text: str
    size: float
    style: str = "regular"  # regular | bold | mono
    wrap: bool = True


@dataclass(frozen=True)
class Code:
    """A QR code in a square box (quiet zone included), at error correction ``error`` or higher."""

    x: float
    y: float
    side: float
    url: str
    error: str


def layout(card: Card) -> list[Text | Code]:
    """The card's parts, each text already sized to fit its box.

    The main code gets Q (a scuffed card still scans) and most of the card; the fallback code is
    smaller, M, and sits under the instructions with its label beside it.
    """
    links = f"Name link: {card.name_url}\nAddress link: {card.address_url}"
    parts = [
        Text(6, 5, 136, 13, card.room, 11, "bold", wrap=False),
        Code(4, 19, 64, card.name_url, "q"),
        Text(72, 21, 70, 30, INSTRUCTIONS, 5.6, "bold"),
        Code(71, 53, 30, card.address_url, "m"),
        Text(102, 56, 40, 20, FALLBACK, 3.3),
        Text(102, 77, 40, 5, f"Made {card.made.isoformat()}", 3.3, "bold"),
        Text(6, 85, 136, 6, links, 2.3, "mono"),
        Text(6, 92.5, 136, 7.5, KEY_WARNING, 2.8, "bold"),
    ]
    return [fitted(part) if isinstance(part, Text) else part for part in parts]


def renderer(path: Path) -> Callable[[Card], bytes]:
    """How to draw a card into ``path``, chosen by its suffix; an unknown one is refused."""
    formats = {".pdf": render_pdf, ".png": render_png, ".html": render_html}
    try:
        return formats[path.suffix.lower()]
    except KeyError:
        raise SoundscapeError(f"cannot tell the card's format from {str(path)!r}: name it "
                              ".pdf, .png or .html") from None


def _px(mm: float) -> int:
    return round(mm * DPI / 25.4)


@lru_cache(maxsize=64)
def font(style: str, size_px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu when the system has it (the HTML asks for it too), else Pillow's scalable default."""
    for folder in _FONT_DIRS:
        path = Path(folder) / _FONT_FILES[style]
        if path.is_file():
            return ImageFont.truetype(str(path), size_px)
    return ImageFont.load_default(size=size_px)


def wrap(text: str, style: str, size_px: int, width_px: int) -> list[str]:
    """Greedy word wrap by the font's widths; a word wider than the box (a link) breaks anywhere."""
    measure = font(style, size_px).getlength
    lines = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if measure(candidate) <= width_px:
                line = candidate
                continue
            if line:
                lines.append(line)
            line = word
            while measure(line) > width_px:
                cut = 1
                while cut < len(line) and measure(line[:cut + 1]) <= width_px:
                    cut += 1
                lines.append(line[:cut])
                line = line[cut:]
        lines.append(line)
    return lines


def _lines(part: Text) -> list[str]:
    if not part.wrap:
        return [part.text]
    return wrap(part.text, part.style, _px(part.size), _px(part.w))


def _fits(part: Text) -> bool:
    lines = _lines(part)
    widest = max(font(part.style, _px(part.size)).getlength(line) for line in lines)
    return widest <= _px(part.w) and len(lines) * part.size * LINE <= part.h


def fitted(part: Text) -> Text:
    """``part`` with its font shrunk, 5% at a time, until its text fits the box."""
    while part.size > 1.0 and not _fits(part):
        part = replace(part, size=round(part.size * 0.95, 3))
    return part


def _qr(part: Code) -> segno.QRCode:
    return segno.make(part.url, error=part.error, micro=False)  # boost_error may raise the level


def draw(card: Card) -> Image.Image:
    """The card as a greyscale image at 300 dpi, black on white."""
    image = Image.new("L", (_px(WIDTH_MM), _px(HEIGHT_MM)), 255)
    pen = ImageDraw.Draw(image)
    for part in layout(card):
        if isinstance(part, Code):
            _draw_code(pen, part)
        else:
            size_px = _px(part.size)
            for i, line in enumerate(_lines(part)):
                pen.text((_px(part.x), _px(part.y + i * part.size * LINE)), line,
                         font=font(part.style, size_px), fill=0)
    return image


def _draw_code(pen: ImageDraw.ImageDraw, part: Code) -> None:
    """Whole pixels per module, so every edge is crisp; centred in its box."""
    qr = _qr(part)
    modules = qr.symbol_size(border=QUIET)[0]
    scale = _px(part.side) // modules
    x0 = _px(part.x) + (_px(part.side) - scale * modules) // 2
    y0 = _px(part.y) + (_px(part.side) - scale * modules) // 2
    for row, values in enumerate(qr.matrix_iter(border=QUIET)):
        for col, dark in enumerate(values):
            if dark:
                left, top = x0 + col * scale, y0 + row * scale
                pen.rectangle((left, top, left + scale - 1, top + scale - 1), fill=0)


def render_png(card: Card) -> bytes:
    out = io.BytesIO()
    draw(card).save(out, "PNG", dpi=(DPI, DPI))
    return out.getvalue()


def render_pdf(card: Card) -> bytes:
    """One A6 page. The image goes in as 1-bit, which Pillow stores losslessly (CCITT G4); grey
    would be stored as a JPEG, blurring the QR codes' edges."""
    out = io.BytesIO()
    draw(card).convert("1", dither=Image.Dither.NONE).save(
        out, "PDF", resolution=DPI, title=f"{card.room}: room card")
    return out.getvalue()


def render_html(card: Card) -> bytes:
    """One self-contained page: inline CSS and SVG, no script, nothing fetched; prints one card."""
    parts = "\n".join(_html_part(part) for part in layout(card))
    return (_HTML_HEAD.format(title=html.escape(f"{card.room}: room card"), style=_css())
            + f'<main class="card">\n{parts}\n</main>\n</body>\n</html>\n').encode("utf-8")


def _box(x: float, y: float, w: float, h: float) -> str:
    return f"left:{x:g}mm;top:{y:g}mm;width:{w:g}mm;height:{h:g}mm"


def _html_part(part: Text | Code) -> str:
    if isinstance(part, Code):
        svg = _qr(part).svg_inline(border=QUIET, omitsize=True, dark="#000", light="#fff")
        return (f'<div class="code" role="img" aria-label="QR code: {html.escape(part.url)}" '
                f'style="{_box(part.x, part.y, part.side, part.side)}">{svg}</div>')
    classes = part.style + ("" if part.wrap else " line")
    return (f'<p class="{classes}" style="{_box(part.x, part.y, part.w, part.h)};'
            f'font-size:{part.size:g}mm">{html.escape(part.text)}</p>')


_HTML_HEAD = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
{style}
</style>
</head>
<body>
"""


def _css() -> str:
    return f"""@page {{ size: {WIDTH_MM:g}mm {HEIGHT_MM:g}mm; margin: 0; }}
* {{ box-sizing: border-box; }}
html, body {{ margin: 0; padding: 0; background: #fff; color: #000; }}
.card {{ display: block; position: relative; width: {WIDTH_MM:g}mm; height: {HEIGHT_MM:g}mm;
  overflow: hidden; background: #fff;
  font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; }}
.card > * {{ position: absolute; margin: 0; line-height: {LINE}; white-space: pre-line; }}
.bold {{ font-weight: bold; }}
.mono {{ font-family: "DejaVu Sans Mono", "Liberation Mono", monospace;
  overflow-wrap: anywhere; }}
.line {{ white-space: nowrap; }}
.code svg {{ display: block; width: 100%; height: 100%; }}
@media screen {{ body {{ background: #666; padding: 8mm; }} .card {{ margin: 0 auto; }} }}"""
