#!/usr/bin/env bash
# Rasa Open Source 3.6 as an optional NLU server for voicebot (it needs Python 3.10).
#
#   scripts/rasa.sh install              a Python 3.10 venv with rasa 3.6.21 + jieba (idempotent, ~3 min)
#   scripts/rasa.sh train PROJECT OUT    train an NLU model from a Rasa project (voicebot nlu export-rasa)
#   scripts/rasa.sh serve MODEL PORT     run `rasa run --enable-api` on 127.0.0.1:PORT (foreground)
#   scripts/rasa.sh python               print the venv's python
set -euo pipefail

if [ "$(id -u)" = 0 ]; then default_lab=/var/lib/voicebot-lab; else default_lab="$HOME/.local/share/voicebot-lab"; fi
LAB=${VOICEBOT_LAB_DIR:-$default_lab}
VENV="$LAB/rasa-venv"
export RASA_TELEMETRY_ENABLED=false

find_python() {
    for candidate in python3.10 "$HOME/.pyenv/versions/3.10.13/bin/python" /usr/local/bin/python3.10; do
        if command -v "$candidate" >/dev/null 2>&1 || [ -x "$candidate" ]; then
            if "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then
                echo "$candidate"
                return 0
            fi
        fi
    done
    echo "rasa: error: Rasa 3.6 needs Python 3.10, and none was found (python3.10 or pyenv 3.10.x)" >&2
    return 1
}

cmd_install() {
    if [ -f "$VENV/.installed" ]; then return 0; fi
    local python
    python=$(find_python)
    mkdir -p "$LAB"
    rm -rf "$VENV"
    "$python" -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check "rasa==3.6.21" jieba >"$LAB/rasa-install.log" 2>&1 \
        || { echo "rasa: error: pip install failed, see $LAB/rasa-install.log" >&2; exit 1; }
    touch "$VENV/.installed"
}

case "${1:-}" in
    install) cmd_install ;;
    train)
        cmd_install
        cd "$2"
        "$VENV/bin/rasa" train nlu --out "$3" --quiet >/dev/null
        ;;
    serve)
        cmd_install
        exec "$VENV/bin/rasa" run --enable-api --model "$2" --port "$3" --interface 127.0.0.1 --quiet
        ;;
    python) echo "$VENV/bin/python" ;;
    *) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
