#!/usr/bin/env bash
# Install the Debian/Ubuntu packages given as arguments that are not installed yet.
# "a|b" means either will do: nothing is installed if one is, else the first apt can install.
# Runs `apt-get update` only when something is missing; uses sudo only when not root. Never
# removes a package to make room (--no-remove): on a desktop that would take out its sound server.
set -euo pipefail

installed() { dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed'; }
candidate() { apt-cache policy "$1" 2>/dev/null | grep -q 'Candidate: [^(]'; }
# first TEST "a|b": the first of the choices for which TEST holds (prints nothing if none does).
first() {
    local pkg choices
    IFS='|' read -r -a choices <<<"$2"
    for pkg in "${choices[@]}"; do
        if "$1" "$pkg"; then echo "$pkg"; return; fi
    done
}

missing=()
for want in "$@"; do
    [ -n "$(first installed "$want")" ] || missing+=("$want")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null || ! command -v dpkg >/dev/null; then
    echo "apt-ensure: not a Debian/Ubuntu system; install these yourself: ${missing[*]}" >&2
    echo "apt-ensure: (see README.md, macOS notes)" >&2
    exit 1
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || {
        echo "apt-ensure: need root to install ${missing[*]}: run as root or install sudo" >&2
        exit 1
    }
    sudo=(sudo)
fi

# Wait for another apt (say, unattended upgrades) to finish rather than fail at once.
lock_wait=(-o DPkg::Lock::Timeout=300)
"${sudo[@]}" apt-get "${lock_wait[@]}" update
packages=()
for want in "${missing[@]}"; do
    pick="$(first candidate "$want")"
    packages+=("${pick:-${want%%|*}}")  # none installable: let apt-get say why
done
echo "Installing system packages: ${packages[*]}"
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${lock_wait[@]}" install -y --no-remove "${packages[@]}"

# Packages named in $APT_ENSURE_NO_SERVICES that were installed just now get their systemd
# services stopped and disabled: the tests start their own (Snapcast's on ports of their own),
# and a Snapcast server enabled by a test install would listen on the clinic's LAN with no
# password. A package that was already installed is left as its owner set it up.
if [ -n "${APT_ENSURE_NO_SERVICES:-}" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
    for pkg in "${packages[@]}"; do
        for quiet in $APT_ENSURE_NO_SERVICES; do
            if [ "$pkg" = "$quiet" ]; then
                echo "Stopping and disabling the $pkg service the package enabled"
                "${sudo[@]}" systemctl disable --now "$pkg" || true
            fi
        done
    done
fi
