#!/usr/bin/env bash
# `make test` on a truly fresh Debian: bootstrap a minimal Debian 12 into a temporary folder
# (debootstrap from the package mirror), add only git, make and python3, clone this checkout's
# committed state into it and run .ci/run there (CI=true), then remove it all. It proves that the
# Makefile installs everything the suite needs by itself: what a green CI on a prepared machine
# can hide. Takes ~15 minutes and a few GB of disk; needs root. Not part of .ci/run.
#   SOUNDSCAPE_FRESH_MIRROR  the Debian mirror (default http://deb.debian.org/debian)
#   SOUNDSCAPE_FRESH_KEEP=1  leave the folder in place afterwards (its path is printed)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
mirror="${SOUNDSCAPE_FRESH_MIRROR:-http://deb.debian.org/debian}"
suite=bookworm

[ "$(id -u)" -eq 0 ] || { echo "fresh-test: run as root (debootstrap and chroot need it)" >&2; exit 1; }
bash "$here/apt-ensure.sh" debootstrap

root="$(mktemp -d /var/tmp/soundscape-fresh.XXXXXX)"
cleanup() {
    local rc=$?
    # Whatever the suite left running inside (its PulseAudio server, a player) goes too.
    for proc in /proc/[0-9]*; do
        [ "$(readlink "$proc/root" 2>/dev/null)" = "$root" ] && kill "${proc#/proc/}" 2>/dev/null
    done
    sleep 1
    for mount in dev/pts dev/shm dev sys proc; do
        mountpoint -q "$root/$mount" && umount -l "$root/$mount"
    done
    if [ "${SOUNDSCAPE_FRESH_KEEP:-}" = 1 ]; then
        echo "fresh-test: kept $root"
    else
        rm -rf --one-file-system "$root"
    fi
    exit $rc
}
trap cleanup EXIT INT TERM

started=$(date +%s)
echo "fresh-test: debootstrap $suite (minbase) from $mirror into $root"
debootstrap --variant=minbase --include=ca-certificates,git,make,python3 \
    "$suite" "$root" "$mirror" >"$root.debootstrap.log" 2>&1 \
    || { tail -20 "$root.debootstrap.log" >&2; exit 1; }
rm -f "$root.debootstrap.log"
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
mkdir -p "$root/dev/shm" && mount -t tmpfs -o mode=1777 tmpfs "$root/dev/shm"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# This machine's network trust goes along (a network that inspects TLS has its own CA): the
# host's extra CA certificates, and pip told to use the system's bundle, as the host's pip is.
tls=()
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
    chroot "$root" update-ca-certificates >/dev/null
    tls=(PIP_CERT=/etc/ssl/certs/ca-certificates.crt SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt)
fi
# The security and updates suites, as a Debian install has them.
cat >"$root/etc/apt/sources.list" <<SOURCES
deb $mirror $suite main
deb $mirror $suite-updates main
deb http://deb.debian.org/debian-security $suite-security main
SOURCES

git clone -q "$repo" "$root/root/soundscape"
echo "fresh-test: $(git -C "$root/root/soundscape" log -1 --format='%h %s')"
echo "fresh-test: running .ci/run in the fresh system"
set +e
chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    TERM=dumb LANG=C.UTF-8 "${tls[@]}" bash -c 'cd /root/soundscape && bash .ci/run'
rc=$?
set -e
echo "fresh-test: .ci/run exited $rc after $(( $(date +%s) - started )) s in all"
exit $rc
