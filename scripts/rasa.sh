#!/usr/bin/env bash
# Rasa Open Source 3.6 as an optional NLU server for voicebot (it needs Python 3.10).
#
#   scripts/rasa.sh install              a Python 3.10 venv with rasa 3.6.21 + jieba (idempotent, ~3 min)
#   scripts/rasa.sh train PROJECT OUT    train an NLU model from a Rasa project (voicebot nlu export-rasa)
#   scripts/rasa.sh prepare SCRIPT_DIR   install, export and train SCRIPT_DIR once (kept by content); prints the model
#   scripts/rasa.sh model SCRIPT_DIR     print the prepared model of SCRIPT_DIR, or fail saying how to prepare it
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

# The Rasa project exported from a voicebot script, in a temporary directory, and the place its
# trained model is kept: $LAB/rasa-models/<hash of the exported project>/ (training takes ~90 s).
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export_project() {
    local project=$1 script=$2
    "$here/.venv/bin/voicebot" --log-level WARNING nlu export-rasa "$script" "$project" >/dev/null
}
model_dir() {
    local project=$1
    echo "$LAB/rasa-models/$(cd "$project" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
}
cmd_model() {
    local script=$1 project dir
    project=$(mktemp -d)
    export_project "$project" "$script"
    dir=$(model_dir "$project")
    rm -rf "$project"
    local model
    model=$(ls "$dir"/*.tar.gz 2>/dev/null | head -n 1 || true)
    if [ -z "$model" ]; then
        echo "rasa: no trained model for $script; run scripts/rasa.sh prepare $script (scripts/test.sh does)" >&2
        return 1
    fi
    echo "$model"
}
cmd_prepare() {
    local script=$1 project dir
    cmd_install
    project=$(mktemp -d)
    export_project "$project" "$script"
    dir=$(model_dir "$project")
    if ! ls "$dir"/*.tar.gz >/dev/null 2>&1; then
        rm -rf "$dir.tmp"
        (cd "$project" && "$VENV/bin/rasa" train nlu --out "$dir.tmp" --quiet >"$LAB/rasa-train.log" 2>&1) \
            || { echo "rasa: error: training failed, see $LAB/rasa-train.log" >&2; rm -rf "$project"; exit 1; }
        rm -rf "$dir" && mv "$dir.tmp" "$dir"
    fi
    rm -rf "$project"
    ls "$dir"/*.tar.gz | head -n 1
}

case "${1:-}" in
    install) cmd_install ;;
    train)
        cmd_install
        cd "$2"
        "$VENV/bin/rasa" train nlu --out "$3" --quiet >/dev/null
        ;;
    prepare) cmd_prepare "$2" ;;
    model) cmd_model "$2" ;;
    serve)
        cmd_install
        exec "$VENV/bin/rasa" run --enable-api --model "$2" --port "$3" --interface 127.0.0.1 --quiet
        ;;
    python) echo "$VENV/bin/python" ;;
    *) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
