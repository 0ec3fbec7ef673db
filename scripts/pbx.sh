#!/usr/bin/env bash
# The local lab PBX: a real Asterisk for development, tests and demos.
#
#   scripts/pbx.sh install   install Asterisk (system package, or a Debian sid chroot on Debian 12)
#   scripts/pbx.sh load      copy dialplans/asterisk into the PBX and reload it
#   scripts/pbx.sh start     install + load if needed, start, wait until fully booted
#   scripts/pbx.sh stop      stop the PBX and wait for it to exit
#   scripts/pbx.sh status    running or not, with version and AMI address
#   scripts/pbx.sh cli CMD   run an Asterisk CLI command ("core show channels")
#   scripts/pbx.sh env       print the VOICEBOT_* variables that point voicebot at this PBX
#   scripts/pbx.sh root      print the PBX's file-system root ("/" for a system install)
#
# Every command is idempotent. The lab binds to 127.0.0.1 only; its AMI secret is
# generated at install time and kept in $VOICEBOT_LAB_DIR/ami.secret (mode 600).
set -euo pipefail
# installed PKG: the package is installed (a removed one whose config files are left is not,
# though `dpkg -s` says it exists)
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ "$(id -u)" = 0 ]; then default_lab=/var/lib/voicebot-lab; else default_lab="$HOME/.local/share/voicebot-lab"; fi
LAB=${VOICEBOT_LAB_DIR:-$default_lab}
ROOT="$LAB/root"
SECRET_FILE="$LAB/ami.secret"
AMI_USER=voicebot

log() { printf 'pbx: %s\n' "$*" >&2; }
die() { printf 'pbx: error: %s\n' "$*" >&2; exit 1; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

system_asterisk() { command -v asterisk >/dev/null 2>&1 && [ ! -f "$LAB/chroot.stamp" ]; }

# Run a command inside the PBX's root (the chroot, or the host for a system install).
in_root() {
    if [ -f "$LAB/chroot.stamp" ]; then as_root chroot "$ROOT" "$@"; else as_root "$@"; fi
}

root_path() { if [ -f "$LAB/chroot.stamp" ]; then echo "$ROOT"; else echo /; fi; }

apt_install() {
    local missing=()
    for pkg in "$@"; do installed "$pkg" || missing+=("$pkg"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Dpkg::Use-Pty=0 "${missing[@]}" >/dev/null
}

cmd_install() {
    mkdir -p "$LAB"
    if [ ! -s "$SECRET_FILE" ]; then
        (umask 077; head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' > "$SECRET_FILE")
        log "generated AMI secret in $SECRET_FILE"
    fi
    if [ -f "$LAB/chroot.stamp" ] || command -v asterisk >/dev/null 2>&1; then return 0; fi
    apt_install sox
    if apt-cache policy asterisk 2>/dev/null | grep -q 'Candidate: [0-9]'; then
        log "installing the distribution's asterisk package"
        apt_install asterisk
        as_root systemctl disable --now asterisk >/dev/null 2>&1 || true
        return 0
    fi
    # Debian 12 has no asterisk package: Debian unstable's Asterisk in a debootstrap chroot.
    apt_install debootstrap
    log "building a Debian sid chroot with Asterisk in $ROOT (about 80 s)"
    local tmp="$LAB/root.partial"
    as_root rm -rf "$tmp"
    as_root debootstrap --variant=minbase sid "$tmp" >"$LAB/debootstrap.log" 2>&1 \
        || die "debootstrap failed, see $LAB/debootstrap.log"
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$tmp/usr/sbin/policy-rc.d" >/dev/null
    as_root chmod +x "$tmp/usr/sbin/policy-rc.d"
    echo 'Acquire::Check-Valid-Until "false";' | as_root tee "$tmp/etc/apt/apt.conf.d/99no-check-valid-until" >/dev/null
    as_root chroot "$tmp" apt-get update -qq >>"$LAB/debootstrap.log" 2>&1
    as_root chroot "$tmp" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Dpkg::Use-Pty=0 \
        --no-install-recommends asterisk >>"$LAB/debootstrap.log" 2>&1 || die "asterisk install failed, see $LAB/debootstrap.log"
    as_root chroot "$tmp" apt-get clean
    as_root rm -rf "$tmp/var/lib/apt/lists"/*
    as_root rm -rf "$ROOT"
    as_root mv "$tmp" "$ROOT"
    touch "$LAB/chroot.stamp"
    log "asterisk installed: $(in_root asterisk -V)"
}

cmd_load() {
    [ -s "$SECRET_FILE" ] || cmd_install
    local root etc
    root=$(root_path)
    etc="$root/etc/asterisk"
    if [ "$root" = / ] && [ -f /etc/asterisk/asterisk.conf ] && [ ! -f /etc/asterisk/.voicebot-lab ]; then
        [ -d /etc/asterisk.orig ] || as_root cp -a /etc/asterisk /etc/asterisk.orig
    fi
    as_root mkdir -p "$etc" "$root/run/asterisk" "$root/var/spool/asterisk/monitor/voicebot" \
        "$root/usr/share/asterisk/sounds/voicebot-lab"
    as_root cp "$here"/dialplans/asterisk/*.conf "$etc/"
    as_root cp "$here"/dialplans/asterisk/lab/*.conf "$etc/"
    as_root mkdir -p "$root/var/spool/asterisk/monitor/voicebot-lab"
    # recordings made before the PBX ran with umask 027: nobody else may read them either
    as_root chmod -R o-rwx "$root/var/spool/asterisk/monitor"
    as_root cp "$here"/dialplans/asterisk/lab/sounds/*.wav "$root/usr/share/asterisk/sounds/voicebot-lab/"
    # The AMI user from the template, with this lab's secret.
    sed -e "s/@AMI_USER@/$AMI_USER/" -e "s/@AMI_SECRET@/$(cat "$SECRET_FILE")/" \
        "$here/dialplans/asterisk/manager_voicebot.conf.template" | as_root tee "$etc/manager_voicebot.conf" >/dev/null
    as_root chmod 600 "$etc/manager_voicebot.conf"
    # call detail records into the lab PostgreSQL, once scripts/postgres.sh has made its database
    if [ -s "$LAB/cdr.env" ]; then
        # shellcheck disable=SC1091
        (. "$LAB/cdr.env"; sed -e "s/@PG_HOST@/$PG_HOST/" -e "s/@PG_PORT@/$PG_PORT/" -e "s/@PG_DB@/$PG_DB/" \
            -e "s/@PG_USER@/$PG_USER/" -e "s/@PG_PASSWORD@/$PG_PASSWORD/" \
            "$here/dialplans/asterisk/cdr_pgsql.conf.template") | as_root tee "$etc/cdr_pgsql.conf" >/dev/null
        as_root chmod 600 "$etc/cdr_pgsql.conf"
    fi
    as_root touch "$etc/.voicebot-lab"
    if running; then
        # modules added to modules.conf since the PBX started, and modules that declined to
        # load for want of their config (cdr_pgsql before scripts/postgres.sh wrote cdr.env):
        # Asterisk lists those as "Not Running"
        local running_now
        running_now=$(in_root asterisk -rx 'module show' | awk '/ Running / && !/Not Running/ {print $1}')
        for module in $(sed -n 's/^load => \([a-z_0-9]*\.so\).*/\1/p' "$etc/modules.conf"); do
            grep -qx "$module" <<<"$running_now" || in_root asterisk -rx "module load $module" >/dev/null || true
        done
        in_root asterisk -rx 'core reload' >/dev/null
        in_root asterisk -rx 'module reload manager' >/dev/null
    fi
}

pid_of() { pgrep -f '/usr/sbin/asterisk -f -n' 2>/dev/null | head -n 1 || true; }
running() { [ -n "$(pid_of)" ] && in_root asterisk -rx 'core show version' >/dev/null 2>&1; }

# Recordings hold customers' voices: Asterisk runs with umask 027, so its files are
# readable by its group (voicebot's, to read and expire them) and nobody else.
UMASK=0027
umask_of() { sed -n 's/^Umask:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null; }

cmd_start() {
    if running && [ "$(umask_of "$(pid_of)")" != "$UMASK" ]; then
        log "asterisk runs with umask $(umask_of "$(pid_of)"), not $UMASK: restarting it"
        cmd_stop
    fi
    if running; then cmd_load; return 0; fi
    cmd_install
    cmd_load
    local root
    root=$(root_path)
    if [ "$root" = / ]; then
        as_root setsid sh -c "umask $UMASK; exec /usr/sbin/asterisk -f -n" >"$LAB/console.log" 2>&1 </dev/null &
    else
        as_root setsid sh -c "umask $UMASK; exec chroot '$ROOT' /usr/sbin/asterisk -f -n" \
            >"$LAB/console.log" 2>&1 </dev/null &
    fi
    for _ in $(seq 1 100); do
        if in_root asterisk -rx 'core waitfullybooted' >/dev/null 2>&1; then
            log "asterisk running (pid $(pid_of)), AMI on 127.0.0.1:5038"
            return 0
        fi
        sleep 0.1
    done
    die "asterisk did not boot in 10 s; see $LAB/console.log"
}

cmd_stop() {
    local pid
    pid=$(pid_of)
    [ -n "$pid" ] || return 0
    in_root asterisk -rx 'core stop now' >/dev/null 2>&1 || as_root kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || { log "asterisk stopped"; return 0; }
        sleep 0.1
    done
    as_root kill -9 "$pid" 2>/dev/null || true
    log "asterisk killed"
}

cmd_status() {
    if running; then
        echo "running pid=$(pid_of) $(in_root asterisk -rx 'core show version' | head -n 1)"
        echo "root=$(root_path) ami=127.0.0.1:5038 user=$AMI_USER"
    else
        echo "stopped"
        return 3
    fi
}

cmd_env() {
    [ -s "$SECRET_FILE" ] || die "no lab installed: run scripts/pbx.sh install"
    echo "VOICEBOT_AMI__HOST=127.0.0.1"
    echo "VOICEBOT_AMI__PORT=5038"
    echo "VOICEBOT_AMI__USERNAME=$AMI_USER"
    echo "VOICEBOT_AMI__SECRET=$(cat "$SECRET_FILE")"
    # numbers go out over the lab's SIP trunk (SIPp on 127.0.0.1:5070 when a test runs it)
    echo 'VOICEBOT_DIAL__CHANNEL_TEMPLATE=PJSIP/{number}@carrier'
    # the number the lab's calls show (a campaign must show one: carriers refuse Anonymous)
    echo "VOICEBOT_DIAL__CALLER_ID=+861012345678"
    echo "VOICEBOT_PBX_ROOT=$(root_path)"
    if [ -s "$LAB/cdr.env" ]; then
        # shellcheck disable=SC1091
        (. "$LAB/cdr.env"; echo "VOICEBOT_CDR__URL=postgresql+psycopg://$PG_USER:$PG_PASSWORD@$PG_HOST:$PG_PORT/$PG_DB")
    fi
}

case "${1:-}" in
    install) cmd_install ;;
    load) cmd_load ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    restart) cmd_stop; cmd_start ;;
    status) cmd_status ;;
    cli) shift; in_root asterisk -rx "$*" ;;
    env) cmd_env ;;
    root) root_path ;;
    *) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
