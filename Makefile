# soundscape: set-up, demo session, tests. `make run` and `make test` install whatever is missing
# (system packages through apt-get, Python packages into .venv) and so work on a fresh
# Debian/Ubuntu machine; see README.md.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.NOTPARALLEL:  # apt-get and pip steps must not overlap, even under make -j

PYTHON ?= python3
VENV := .venv
PLAYLIST ?= playlists/demo.yaml
SERVE_ARGS ?=
# The private PulseAudio server (null sink "room") of tests and headless runs; tests find it
# through XDG_RUNTIME_DIR.
PULSE_DIR := /tmp/soundscape-pulse
PYTEST_ARGS ?=
# In CI the suite is stopped after this long, so a hang fails in minutes, not at CI's limit.
TEST_TIMEOUT_S ?= 900

# What running needs; pulseaudio itself only when no sound server is running (see `run`).
RUN_PKGS := vlc-bin vlc-plugin-base pulseaudio-utils
# Chromium drives the browser tests (Playwright uses the system's; it downloads none). Ubuntu
# calls it chromium-browser. Playwright's own driver (a Node.js binary in its wheel) needs
# libatomic1, which a minimal Debian lacks. systemd-analyze (systemd) checks the service unit;
# zbarimg (zbar-tools) reads the room card's QR codes, pdftoppm (poppler-utils) renders its PDF;
# snapserver and snapclient: the snapcast output's end-to-end test (several speakers).
TEST_PKGS := vlc-bin vlc-plugin-base pulseaudio pulseaudio-utils 'chromium|chromium-browser' \
	libatomic1 systemd zbar-tools poppler-utils snapserver snapclient
# The baselines the benchmarks compare against: MPD (crossfade, MixRamp), loudgain (loudness), and
# ffmpeg (its ebur128 filter; it also encodes the benches' test library).
BENCH_PKGS := mpd loudgain ffmpeg

.PHONY: help run test fresh-test check bench screenshots demo-music setup setup-test system \
	system-test pulse pulse-stop clean distclean

help:
	@echo "make run        set up, then start the demo session (control page, demo playlist)"
	@echo "make test       set up with test dependencies, start PulseAudio, run all tests"
	@echo "make fresh-test make test inside a freshly bootstrapped Debian 12 (root, ~15 min)"
	@echo "make check      check every shipped playlist"
	@echo "make bench      run the benchmarks"
	@echo "make screenshots refresh the control page's pictures in docs/screenshots/"
	@echo "make demo-music create the built-in demo music if needed"
	@echo "make pulse      start the private PulseAudio server (sink 'room'); pulse-stop stops it"
	@echo "make clean      remove caches and test output, stop the private PulseAudio server"
	@echo "make distclean  also remove .venv and the demo music cache"

# Sound goes to the desktop's own sound server (PulseAudio or PipeWire) when one answers;
# otherwise to the private server's null sink, so a headless machine runs the same session.
run: setup demo-music
	@if pactl info >/dev/null 2>&1; then \
		echo "Playing through the running sound server."; \
		exec $(VENV)/bin/soundscape serve $(PLAYLIST) $(SERVE_ARGS); \
	else \
		echo "No sound server answers: starting a private one (null sink 'room')."; \
		$(MAKE) --no-print-directory pulse; \
		XDG_RUNTIME_DIR=$(PULSE_DIR) exec $(VENV)/bin/soundscape serve $(PLAYLIST) $(SERVE_ARGS); \
	fi

# pytest's exit status 5 means it collected no test at all: said plainly, not counted a failure.
# Every other non-zero status (failures, errors, the timeout's 124) is passed on.
test: setup-test pulse
	@rc=0; XDG_RUNTIME_DIR=$(PULSE_DIR) $(if $(filter true,$(CI)),timeout -k 10 $(TEST_TIMEOUT_S)) \
		$(VENV)/bin/pytest -q -ra $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests"; exit 0; fi; \
	if [ $$rc -eq 124 ]; then echo "make test: stopped after $(TEST_TIMEOUT_S) s" >&2; fi; \
	exit $$rc

check: setup
	$(VENV)/bin/soundscape check playlists/

bench: setup-test pulse
	@bash scripts/apt-ensure.sh $(BENCH_PKGS)
	XDG_RUNTIME_DIR=$(PULSE_DIR) $(VENV)/bin/python -m bench

# The whole set-up and suite on a minimal Debian bootstrapped for the purpose (scripts/fresh-test.sh).
# The browser tests that take the docs' pictures, told to copy them into docs/screenshots/.
screenshots: setup-test
	SOUNDSCAPE_UPDATE_SCREENSHOT=1 $(VENV)/bin/pytest -q tests/web/test_page_dark_room.py \
		tests/web/test_browser.py -k "screenshot or two_phones"

fresh-test:
	@bash scripts/fresh-test.sh

demo-music: setup
	@$(VENV)/bin/soundscape demo-music >/dev/null

setup: system $(VENV)/.installed-run
setup-test: system-test $(VENV)/.installed-test

# dpkg is asked every time (it is quick); apt-get runs only for what is missing.
system:
	@bash scripts/apt-ensure.sh $(RUN_PKGS)
system-test:
	@APT_ENSURE_NO_SERVICES="snapserver snapclient" bash scripts/apt-ensure.sh $(TEST_PKGS)

# Debian's python3 makes venvs only with python3-venv installed: added when creation fails.
$(VENV)/bin/python:
	@command -v $(PYTHON) >/dev/null || bash scripts/apt-ensure.sh python3 python3-venv
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
		rm -rf $(VENV); bash scripts/apt-ensure.sh python3-venv; $(PYTHON) -m venv $(VENV); }

$(VENV)/.installed-run: pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/pip install --disable-pip-version-check -q -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/pip install --disable-pip-version-check -q -e '.[test]'
	@touch $@ $(VENV)/.installed-run

pulse:
	@bash scripts/apt-ensure.sh pulseaudio pulseaudio-utils
	@SOUNDSCAPE_PULSE_DIR=$(PULSE_DIR) bash scripts/pulse-start.sh

pulse-stop:
	@SOUNDSCAPE_PULSE_DIR=$(PULSE_DIR) bash scripts/pulse-stop.sh

clean: pulse-stop
	rm -rf .pytest_cache .hypothesis test-output build dist
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) *.egg-info
	rm -rf "$${XDG_CACHE_HOME:-$$HOME/.cache}/soundscape/demo-music-v1"
