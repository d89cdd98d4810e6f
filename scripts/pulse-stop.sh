#!/usr/bin/env bash
# Stop soundscape's private PulseAudio server and its keep-alive stream (see pulse-start.sh).
set -euo pipefail
dir="${SOUNDSCAPE_PULSE_DIR:-/tmp/soundscape-pulse}"
[ -d "$dir" ] || exit 0
export XDG_RUNTIME_DIR="$dir" PULSE_CLIENTCONFIG="$dir/client.conf"
unset PULSE_SERVER
if pid="$(cat "$dir/keepalive.pid" 2>/dev/null)" &&
    { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -q '^pacat .*--device=room'; then
    kill "$pid"
fi
rm -f "$dir/keepalive.pid"
if pactl info >/dev/null 2>&1; then
    pulseaudio --kill 2>/dev/null || pactl exit 2>/dev/null || true
    echo "PulseAudio at XDG_RUNTIME_DIR=$dir stopped"
fi
