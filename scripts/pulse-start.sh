#!/usr/bin/env bash
# Start soundscape's private PulseAudio server: a null sink named "room", in a fixed runtime
# folder (default /tmp/soundscape-pulse, or $SOUNDSCAPE_PULSE_DIR), with a silent stream keeping
# the sink running (an idle null sink delivers its monitor in bursts, which ruins timing).
# Idempotent: when a server already answers there, it only makes sure "room" and the keep-alive
# exist. Clients reach it with XDG_RUNTIME_DIR set to that folder.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dir="${SOUNDSCAPE_PULSE_DIR:-/tmp/soundscape-pulse}"
export XDG_RUNTIME_DIR="$dir"
unset PULSE_SERVER PULSE_SINK
log="$dir/pulseaudio.log"

for tool in pulseaudio pactl pacat; do
    command -v "$tool" >/dev/null || {
        echo "pulse-start: $tool not found: install pulseaudio pulseaudio-utils (make does)" >&2
        exit 1
    }
done

mkdir -p -m 700 "$dir"
if [ "$(stat -c %u "$dir")" != "$(id -u)" ]; then
    echo "pulse-start: $dir belongs to another user; set SOUNDSCAPE_PULSE_DIR to a folder of yours" >&2
    exit 1
fi
# One start at a time: two `make test` runs starting together share one server.
if command -v flock >/dev/null; then
    exec 9>"$dir/start.lock"
    flock 9
fi
# Never let our own pactl calls autospawn a server with the default configuration.
printf 'autospawn = no\n' >"$dir/client.conf"
export PULSE_CLIENTCONFIG="$dir/client.conf"

answers() { pactl info >/dev/null 2>&1; }
# A pid file left by a server that was killed makes pulseaudio refuse to start ("Daemon already
# running") while that pid is a zombie or another program: remove it then.
live_pulseaudio() {
    local pid state
    pid="$(tr -dc 0-9 <"$1")" && [ -n "$pid" ] || return 1
    state="$(awk '{ print $3 }' "/proc/$pid/stat")" && [ "$state" != Z ] || return 1
    grep -q pulseaudio "/proc/$pid/cmdline"
}
has_room() { pactl list short sinks 2>/dev/null | awk -F'\t' '$2 == "room" { found = 1 } END { exit !found }'; }

if ! answers; then
    if [ -f "$dir/pulse/pid" ] && ! live_pulseaudio "$dir/pulse/pid" 2>/dev/null; then
        rm -f "$dir/pulse/pid" "$dir/pulse/native"
    fi
    pulseaudio --daemonize=yes --exit-idle-time=-1 -n -F "$here/pulse.pa" \
        --log-target=file:"$log" </dev/null >>"$log" 2>&1 9>&- || true
    for _ in $(seq 100); do  # up to 10 s
        answers && break
        sleep 0.1
    done
    if ! answers; then
        echo "pulse-start: PulseAudio did not answer within 10 s at XDG_RUNTIME_DIR=$dir" >&2
        tail -n 20 "$log" >&2 || true
        exit 1
    fi
fi

if ! has_room; then  # a server that someone else started without our configuration
    pactl load-module module-null-sink sink_name=room rate=44100 >/dev/null
    pactl set-default-sink room
fi

keepalive_pid_file="$dir/keepalive.pid"
keepalive_running() {
    local pid
    pid="$(cat "$keepalive_pid_file" 2>/dev/null)" || return 1
    [ -n "$pid" ] && { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -q '^pacat .*--device=room'
}
if ! keepalive_running; then
    setsid pacat --raw --device=room --format=s16le --rate=44100 --channels=2 \
        --client-name=soundscape-keepalive /dev/zero </dev/null >/dev/null 2>&1 9>&- &
    echo $! >"$keepalive_pid_file"
fi
for _ in $(seq 50); do  # up to 5 s until the keep-alive stream plays (it connects in ~10 ms)
    pactl list sink-inputs 2>/dev/null | grep -q 'application.name = "soundscape-keepalive"' && break
    sleep 0.1
done

echo "PulseAudio ready: sink 'room' at XDG_RUNTIME_DIR=$dir"
