#!/usr/bin/env bash
# Install everything voicebot needs on Debian 12, skipping what is already there:
# system packages, the Python environment in .venv (the project and its dev tools),
# and the lab Asterisk and FreeSWITCH (scripts/pbx.sh install, scripts/freeswitch.sh install).
set -euo pipefail
# installed PKG: the package is installed (a removed one whose config files are left is not,
# though `dpkg -s` says it exists)
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"

log() { printf 'setup: %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# -- system packages -----------------------------------------------------------------
need=()
# sip-tester (SIPp): the lab's SIP carrier, a real SIP user agent behind a PJSIP trunk;
# fonts-wqy-microhei: Chinese (and Latin) text in PDF reports
for pkg in espeak-ng libespeak-ng1 sox sip-tester python3-venv ca-certificates fonts-wqy-microhei; do
    installed "$pkg" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Dpkg::Use-Pty=0 "${need[@]}" >/dev/null
fi

# -- Python 3.11+ and the virtual environment ------------------------------------------
python=""
for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
        "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        python=$(command -v "$candidate")
        break
    fi
done
[ -n "$python" ] || { log "error: voicebot needs Python 3.11 or newer"; exit 1; }

stamp=".venv/.voicebot-installed"
want=$(cat pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -x .venv/bin/python ]; then
    log "creating .venv with $python"
    "$python" -m venv .venv
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "installing voicebot and its dependencies into .venv"
    .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]'
    echo "$want" > "$stamp"
fi

# -- the lab PBXs ----------------------------------------------------------------------
scripts/pbx.sh install
# FreeSWITCH, built from source once (about 4 minutes; cached by revision)
scripts/freeswitch.sh install
log "ready"
