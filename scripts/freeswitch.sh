#!/usr/bin/env bash
# The lab's second PBX: a real FreeSWITCH for development, tests and demos, next to the lab
# Asterisk on its own ports.
#
#   scripts/freeswitch.sh install   build FreeSWITCH into the lab directory (once per revision)
#   scripts/freeswitch.sh load      write its configuration (dialplans/freeswitch + the lab's)
#   scripts/freeswitch.sh start     install + load if needed, start, wait until it answers
#   scripts/freeswitch.sh stop      stop it and wait for it to exit
#   scripts/freeswitch.sh status    running or not, with version and event-socket address
#   scripts/freeswitch.sh cli CMD   run a FreeSWITCH API command ("show channels")
#   scripts/freeswitch.sh env       print the VOICEBOT_* variables that point voicebot at it
#
# Debian has no FreeSWITCH package: it is built from ../shared/vendor/freeswitch (the source
# archives of FreeSWITCH 1.10.12, sofia-sip 1.13.17 and spandsp 0c7bceb) when present, else
# from the same revisions of the public repositories, with only the modules voicebot needs.
# The build (about 4 minutes on 2 cores) is cached by those revisions. The lab binds to
# 127.0.0.1 only; its event-socket password is generated at install time and kept in
# $VOICEBOT_LAB_DIR/freeswitch/esl.secret (mode 600).
set -euo pipefail
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ "$(id -u)" = 0 ]; then default_lab=/var/lib/voicebot-lab; else default_lab="$HOME/.local/share/voicebot-lab"; fi
LAB=${VOICEBOT_LAB_DIR:-$default_lab}
FS="$LAB/freeswitch"
PREFIX="$FS/prefix"          # FreeSWITCH and the two libraries it is built against
CONF="$FS/conf"
SECRET_FILE="$FS/esl.secret"
VENDOR=${VOICEBOT_FREESWITCH_SOURCES:-"$here/../shared/vendor/freeswitch"}
ESL_PORT=8021
SIP_PORT=5090

# The revisions built (the vendor archives are git archives of these).
FREESWITCH_REV=v1.10.12
SOFIA_REV=v1.13.17
SPANDSP_REV=0c7bceb
BUILD_ID="fs=$FREESWITCH_REV sofia=$SOFIA_REV spandsp=$SPANDSP_REV modules=1"

log() { printf 'freeswitch: %s\n' "$*" >&2; }
die() { printf 'freeswitch: error: %s\n' "$*" >&2; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
    local missing=()
    for pkg in "$@"; do installed "$pkg" || missing+=("$pkg"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Dpkg::Use-Pty=0 "${missing[@]}" >/dev/null
}

# Unpack the source of one project into DIR: the vendor archive, or a clone of the revision.
fetch_source() {
    local archive=$1 repo=$2 rev=$3 dir=$4
    rm -rf "$dir"
    mkdir -p "$dir"
    if [ -f "$VENDOR/$archive" ]; then
        tar -xzf "$VENDOR/$archive" -C "$dir"
    else
        log "no $VENDOR/$archive: cloning $repo at $rev"
        git clone -q "https://github.com/$repo" "$dir" && git -C "$dir" checkout -q "$rev" \
            || die "could not get $repo $rev (set VOICEBOT_FREESWITCH_SOURCES to a folder with $archive)"
    fi
}

build_library() {
    local name=$1 dir="$FS/build/$1"
    log "building $name"
    (cd "$dir" && ./bootstrap.sh && ./configure --prefix="$PREFIX" && make -j"$(nproc)" && make install) \
        >"$FS/build-$name.log" 2>&1 || die "$name build failed, see $FS/build-$name.log"
}

cmd_install() {
    mkdir -p "$FS"
    if [ ! -s "$SECRET_FILE" ]; then
        (umask 077; head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' > "$SECRET_FILE")
        log "generated event-socket password in $SECRET_FILE"
    fi
    if [ -x "$PREFIX/bin/freeswitch" ] && [ "$(cat "$PREFIX/.built" 2>/dev/null)" = "$BUILD_ID" ]; then
        return 0
    fi
    apt_install build-essential autoconf automake libtool libtool-bin pkg-config libssl-dev \
        zlib1g-dev libjpeg-dev libsqlite3-dev libcurl4-openssl-dev libpcre3-dev libspeexdsp-dev \
        libspeex-dev libldns-dev libedit-dev libtiff-dev uuid-dev libsndfile1-dev libopus-dev \
        yasm nasm libncurses-dev git
    log "building FreeSWITCH $FREESWITCH_REV into $PREFIX (about 4 minutes)"
    rm -rf "$PREFIX" "$FS/build"
    fetch_source "sofia-sip-$SOFIA_REV.tar.gz" freeswitch/sofia-sip "$SOFIA_REV" "$FS/build/sofia-sip"
    fetch_source "spandsp-$SPANDSP_REV.tar.gz" freeswitch/spandsp "$SPANDSP_REV" "$FS/build/spandsp"
    fetch_source "freeswitch-$FREESWITCH_REV.tar.gz" signalwire/freeswitch "$FREESWITCH_REV" "$FS/build/freeswitch"
    build_library sofia-sip
    build_library spandsp
    local src="$FS/build/freeswitch"
    # only what voicebot uses: SIP, the event socket, loopback calls, the XML dialplan, files,
    # tones, hold music, queues for the agents, and recordings
    cat >"$src/modules.conf" <<'EOF'
loggers/mod_console
loggers/mod_logfile
event_handlers/mod_event_socket
endpoints/mod_sofia
endpoints/mod_loopback
applications/mod_commands
applications/mod_dptools
applications/mod_callcenter
applications/mod_hash
applications/mod_db
dialplans/mod_dialplan_xml
formats/mod_sndfile
formats/mod_native_file
formats/mod_tone_stream
formats/mod_local_stream
EOF
    log "configuring and compiling FreeSWITCH"
    (
        cd "$src"
        export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"
        export LDFLAGS="-Wl,-rpath,$PREFIX/lib -L$PREFIX/lib"
        export CFLAGS="-I$PREFIX/include -Wno-error" CPPFLAGS="-I$PREFIX/include"
        ./bootstrap.sh -j
        ./configure --prefix="$PREFIX" --disable-libvpx --disable-libyuv \
            --disable-core-odbc-support --disable-core-pgsql-support
        make -j"$(nproc)"
        make install
    ) >"$FS/build-freeswitch.log" 2>&1 || die "FreeSWITCH build failed, see $FS/build-freeswitch.log"
    rm -rf "$FS/build"
    echo "$BUILD_ID" >"$PREFIX/.built"
    log "FreeSWITCH installed: $("$PREFIX/bin/freeswitch" -version | head -n 1)"
}

cmd_load() {
    [ -x "$PREFIX/bin/freeswitch" ] || cmd_install
    mkdir -p "$CONF" "$FS/log" "$FS/db" "$FS/run" "$FS/recordings" "$FS/sounds"
    rm -rf "$CONF.new"
    mkdir -p "$CONF.new"
    cp -r "$here"/dialplans/freeswitch/. "$CONF.new/"
    cp -r "$here"/dialplans/freeswitch/lab/. "$CONF.new/"
    rm -rf "$CONF.new/lab"
    sed -i -e "s/@ESL_PASSWORD@/$(cat "$SECRET_FILE")/" -e "s/@ESL_PORT@/$ESL_PORT/" \
        -e "s/@SIP_PORT@/$SIP_PORT/" -e "s#@RECORDINGS@#$FS/recordings#" -e "s#@SOUNDS@#$FS/sounds#" \
        "$CONF.new"/*.xml "$CONF.new"/*/*.xml 2>/dev/null || true
    chmod -R go-rwx "$CONF.new"
    rm -rf "$CONF"
    mv "$CONF.new" "$CONF"
    cp "$here"/dialplans/asterisk/lab/sounds/*.wav "$FS/sounds/" 2>/dev/null || true
    hold_music "$FS/sounds/moh/hold.wav"
    if running; then api reloadxml >/dev/null; fi
}

# The lab's hold music (local_stream://default, what a callee waiting for an agent hears): a
# gentle two-note chime, 8 kHz, written once with the Python standard library.
hold_music() {
    [ -s "$1" ] && return 0
    mkdir -p "$(dirname "$1")"
    /usr/bin/python3 - "$1" <<'PY'
import math, struct, sys, wave
rate, frames = 8000, []
for step in range(8):
    freq = (523.25, 659.25, 783.99, 659.25)[step % 4]
    for n in range(int(rate * 0.6)):
        fade = min(1.0, n / 400, (rate * 0.6 - n) / 400)
        frames.append(int(6000 * fade * math.sin(2 * math.pi * freq * n / rate)))
    frames.extend([0] * int(rate * 0.15))
with wave.open(sys.argv[1], "wb") as out:
    out.setnchannels(1)
    out.setsampwidth(2)
    out.setframerate(rate)
    out.writeframes(struct.pack(f"<{len(frames)}h", *frames))
PY
}

pid_of() { cat "$FS/run/freeswitch.pid" 2>/dev/null || true; }
api() { "$PREFIX/bin/fs_cli" -H 127.0.0.1 -P "$ESL_PORT" -p "$(cat "$SECRET_FILE")" -x "$*"; }
running() { local pid; pid=$(pid_of); [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && api status >/dev/null 2>&1; }

cmd_start() {
    if running; then cmd_load; return 0; fi
    cmd_install
    cmd_load
    # recordings hold customers' voices: readable by the group (voicebot's), nobody else
    (umask 0027; setsid "$PREFIX/bin/freeswitch" -nc -nonat -nf \
        -conf "$CONF" -log "$FS/log" -db "$FS/db" -run "$FS/run" \
        -sounds "$FS/sounds" -recordings "$FS/recordings" >"$FS/console.log" 2>&1 </dev/null &)
    for _ in $(seq 1 300); do
        if running; then
            log "freeswitch running (pid $(pid_of)), event socket on 127.0.0.1:$ESL_PORT"
            return 0
        fi
        sleep 0.1
    done
    die "freeswitch did not start in 30 s; see $FS/console.log and $FS/log/freeswitch.log"
}

cmd_stop() {
    local pid
    pid=$(pid_of)
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    api shutdown >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || { log "freeswitch stopped"; return 0; }
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    log "freeswitch killed"
}

cmd_status() {
    if running; then
        echo "running pid=$(pid_of) $(api version | head -n 1)"
        echo "event socket=127.0.0.1:$ESL_PORT sip=127.0.0.1:$SIP_PORT"
    else
        echo "stopped"
        return 3
    fi
}

cmd_env() {
    [ -s "$SECRET_FILE" ] || die "no FreeSWITCH installed: run scripts/freeswitch.sh install"
    echo "VOICEBOT_PBX__KIND=freeswitch"
    echo "VOICEBOT_ESL__HOST=127.0.0.1"
    echo "VOICEBOT_ESL__PORT=$ESL_PORT"
    echo "VOICEBOT_ESL__USER=voicebot@voicebot.lab"
    echo "VOICEBOT_ESL__PASSWORD=$(cat "$SECRET_FILE")"
    echo "VOICEBOT_PBX__RECORDINGS=$FS/recordings"
    # the lab's callee sounds (loopback/play-NAME/voicebot-lab plays NAME.wav from here)
    echo "FREESWITCH_LAB_SOUNDS=$FS/sounds"
}

case "${1:-}" in
    install) cmd_install ;;
    load) cmd_load ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    restart) cmd_stop; cmd_start ;;
    status) cmd_status ;;
    cli) shift; api "$*" ;;
    env) cmd_env ;;
    *) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
