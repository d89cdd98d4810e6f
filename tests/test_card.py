"""The room card: both links scan from every format, it prints at A6, and it is the room's key.

The codes are read the way a phone would, from pixels: zbarimg on the PNG, on the PDF rasterised
by pdftoppm, and on Chromium's screenshot of the HTML. In CI (CI=true) a missing zbarimg,
pdftoppm or Chromium fails these tests; elsewhere it skips them with the reason.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from soundscape import roomlink, roomtoken
from soundscape.card import INSTRUCTIONS, KEY_WARNING
from soundscape.cli.main import main

A6_PT = (419.53, 297.64)  # ISO A6 landscape, 148 x 105 mm, in PostScript points


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        _unavailable(f"{name} is missing: apt-get install -y {package}")
    return path


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A home with a room config (Room 2, port 8800) and a fixed LAN address."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setattr(roomlink, "lan_ip", lambda: "192.168.1.20")
    room = tmp_path / "config" / "soundscape" / "room.yaml"
    room.parent.mkdir(parents=True)
    room.write_text("name: Room 2\nport: 8800\n")
    return tmp_path


def links(token: str, port: int = 8800) -> list[str]:
    return sorted([f"http://room-2.local:{port}/?token={token}",
                   f"http://192.168.1.20:{port}/?token={token}"])


def make_card(home: Path, name: str, *extra: str) -> Path:
    out = home / name
    assert main(["card", "-o", str(out), *extra]) == 0
    return out


def scan(image: Path) -> list[str]:
    """Every QR code zbarimg reads in the image, sorted."""
    ran = subprocess.run([tool("zbarimg", "zbar-tools"), "--raw", "-q", str(image)],
                         check=False, capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0, f"no code read from {image}: {ran.stderr}"
    return sorted(ran.stdout.split())


def pdf_page(pdf: Path) -> tuple[int, float, float]:
    """(pages, width, height in points) as pdfinfo reads them."""
    out = subprocess.run([tool("pdfinfo", "poppler-utils"), str(pdf)], capture_output=True,
                         text=True, timeout=60, check=True).stdout
    size = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", out)
    return int(re.search(r"Pages:\s+(\d+)", out).group(1)), float(size[1]), float(size[2])


def shown_token(capsys) -> str:
    """The token ``soundscape token`` shows."""
    assert main(["token"]) == 0
    return re.search(r"\?token=([A-Za-z0-9_-]+)", capsys.readouterr().out).group(1)


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data):
        self.parts.append(data)


def test_the_png_scans_to_both_links_with_the_token_soundscape_token_shows(home, capsys):
    token = shown_token(capsys)
    png = make_card(home, "card.png")
    out = capsys.readouterr().out
    assert scan(png) == links(token)
    with Image.open(png) as image:
        assert image.size == (1748, 1240)
        dpi = image.info["dpi"]
    assert [round(px / d * 25.4, 1) for px, d in zip((1748, 1240), dpi)] == [148.0, 105.0]
    assert stat.S_IMODE(png.stat().st_mode) == 0o600  # the card is a key, like the token file
    assert f"Wrote the room card for Room 2 to {png} (148 x 105 mm, A6)" in out
    assert "This card is the room's key: anyone who scans it controls the music. Keep it with " \
           "the facilitators; soundscape token --rotate makes a new one (print a new card)." in out


def test_the_pdf_is_one_a6_page_whose_codes_scan_at_150_dpi(home, tmp_path):
    pdf = make_card(home, "card.pdf", "--port", "9000")
    pages, width, height = pdf_page(pdf)
    assert pages == 1
    assert width == pytest.approx(A6_PT[0], abs=0.5) and height == pytest.approx(A6_PT[1], abs=0.5)
    subprocess.run([tool("pdftoppm", "poppler-utils"), "-r", "150", "-png", str(pdf),
                    str(tmp_path / "page")], check=True, timeout=60)
    (page,) = tmp_path.glob("page*.png")
    with Image.open(page) as image:
        assert image.size == (874, 620)  # 148 x 105 mm at 150 dpi
    assert scan(page) == links(roomtoken.load()[0], port=9000)


def test_every_card_carries_the_lasting_token_until_it_is_rotated(home, capsys):
    first = scan(make_card(home, "one.png"))
    assert scan(make_card(home, "two.png")) == first
    token = shown_token(capsys)
    assert first == links(token)
    assert main(["token", "--rotate"]) == 0
    rotated = scan(make_card(home, "three.png"))
    assert rotated == links(shown_token(capsys)) and rotated != first


def test_the_html_is_one_self_contained_file_with_the_key_warning(home):
    raw = make_card(home, "card.html").read_text(encoding="utf-8")
    token = roomtoken.load()[0]
    assert "<script" not in raw.lower()
    for fetching in ("src=", "href=", "<link", "url(", "@import"):
        assert fetching not in raw.lower()
    assert sorted(set(re.findall(r"https?://[^\s\"'<>]+", raw))) == links(token)
    assert raw.count("<svg") == 2
    parser = _Text()
    parser.feed(raw)
    text = " ".join(parser.parts)
    assert KEY_WARNING in text and INSTRUCTIONS in text and "Room 2" in text
    assert f"Made {date.today().isoformat()}" in text


@pytest.mark.browser
def test_the_html_in_chromium_scans_to_both_links_and_prints_one_a6_page(home, browser,
                                                                          tmp_path):
    card = make_card(home, "card.html")
    page = browser.new_page(viewport={"width": 640, "height": 480}, device_scale_factor=3)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    try:
        page.goto(card.as_uri())
        page.locator(".card").screenshot(path=str(tmp_path / "shot.png"))
        assert KEY_WARNING in page.inner_text("body")
        page.pdf(path=str(tmp_path / "printed.pdf"), prefer_css_page_size=True)
    finally:
        page.close()
    assert requests == [card.as_uri()]  # nothing else is fetched
    assert scan(tmp_path / "shot.png") == links(roomtoken.load()[0])
    pages, width, height = pdf_page(tmp_path / "printed.pdf")
    assert pages == 1  # Chromium rounds the page to whole CSS pixels: within 0.2 mm
    assert width == pytest.approx(A6_PT[0], abs=1) and height == pytest.approx(A6_PT[1], abs=1)


def test_an_unknown_suffix_is_refused_before_any_token_is_made(home, capsys):
    target = home / "card.jpg"
    assert main(["card", "-o", str(target)]) == 1
    assert capsys.readouterr().err == (f"error: cannot tell the card's format from '{target}': "
                                       "name it .pdf, .png or .html\n")
    assert not target.exists() and not roomtoken.default_path().exists()


def test_the_output_must_be_named(home, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["card"])
    assert exited.value.code == 2
    assert "the following arguments are required: -o/--output" in capsys.readouterr().err


@pytest.mark.parametrize("case, reason", [
    ("missing folder", "No such file or directory"),
    ("a folder there", "Is a directory"),
    ("read-only folder", "Permission denied"),
])
def test_a_card_that_cannot_be_written_is_a_plain_error_naming_it(home, capsys, case, reason):
    folder = home / "out"
    folder.mkdir()
    target = folder / "card.pdf"
    if case == "missing folder":
        target = folder / "no-such-folder" / "card.pdf"
    elif case == "a folder there":
        target.mkdir()
    elif os.geteuid() == 0:
        target = Path("/sys/soundscape-card.pdf")  # root writes into any folder but sysfs
    else:
        folder.chmod(0o500)
    try:
        assert main(["card", "-o", str(target)]) == 1
    finally:
        folder.chmod(0o700)
    captured = capsys.readouterr()
    assert captured.err == f"error: cannot write {target}: {reason}\n"
    assert "Wrote" not in captured.out
    assert [p.name for p in folder.iterdir()] == (["card.pdf"] if case == "a folder there" else [])
