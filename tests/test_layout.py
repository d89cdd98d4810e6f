"""The test tree's own rule: test modules have unique names (pytest imports them by basename)."""

from collections import Counter
from pathlib import Path


def test_test_modules_have_unique_basenames():
    names = Counter(p.name for p in Path(__file__).parent.rglob("test_*.py"))
    assert [name for name, count in names.items() if count > 1] == []
