"""Fixtures every test folder may use: Debian's Chromium, launched once per module.

A missing Chromium or playwright skips the browser tests here and fails them in CI (CI=true).
Nothing is downloaded: playwright drives the system's browser.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Debian's package; Ubuntu names the same browser chromium-browser.
CHROMIUM = next((path for path in ("/usr/bin/chromium", "/usr/bin/chromium-browser")
                 if Path(path).exists()), "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install playwright; no browser download "
                     "needed)")
    if not Path(CHROMIUM).exists():
        _unavailable(f"{CHROMIUM} is missing: apt-get install -y chromium (chromium-browser on "
                     "Ubuntu)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
