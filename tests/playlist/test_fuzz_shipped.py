"""Fuzzing the loader with mutations of the shipped playlists: located problems or a playlist,
never an exception, in bounded memory. How many cases ran is printed (``pytest -s``)."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from soundscape.playlist import check_file

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "playlists").rglob("*.yaml"))
SNIPPETS = ["\t", ":", " ", "\n", "- ", "&a ", "*a", "!!python/object:os.system ", "{", "}", "[", "]",
            "yes", "1:30", "-3dB", "150%", "'", '"', "#", "\x00", "\u00e9", "---\n", "? ", "|\n",
            "duration: 15 mins\n", "level: loud\n", "tracks: []\n", "ambience: none\n"]
CASES = {"count": 0}


@st.composite
def mutated(draw):
    source = SHIPPED[draw(st.integers(0, len(SHIPPED) - 1))]
    text = source.read_text(encoding="utf-8")
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["insert", "delete", "replace", "duplicate_line"]))
        piece = draw(st.sampled_from(SNIPPETS) | st.text(max_size=8))
        if kind == "insert":
            text = text[:at] + piece + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 40)):]
        elif kind == "replace":
            text = text[:at] + piece + text[at + len(piece):]
        else:
            lines = text.splitlines(keepends=True)
            if lines:
                i = draw(st.integers(0, len(lines) - 1))
                lines.insert(i, lines[i])
                text = "".join(lines)
    return source, text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutated())
def test_mutated_shipped_playlists_give_problems_or_a_playlist_never_an_exception(tmp_path, case):
    source, text = case
    target = tmp_path / "playlists" / source.relative_to(ROOT / "playlists")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8", errors="surrogatepass")
    check_file(source)  # warm: imports, the demo music and the duration cache are not the case's
    tracemalloc.start()
    try:
        playlist, problems = check_file(target)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    CASES["count"] += 1
    assert playlist is not None or any(p.severity == "error" for p in problems)
    assert all(p.line >= 1 and p.col >= 1 and p.message for p in problems)
    assert peak < 50 * 2**20, f"{peak / 2**20:.1f} MB for a {len(text)}-byte playlist"


def test_report_fuzz_count():
    print(f"\nfuzzed the loader with {CASES['count']} mutated shipped playlists")
