#!/usr/bin/env bash
# The main job, from a fresh Debian 12 machine: set up what is missing, start the lab
# Asterisk, check the installation, and place a demo call to a simulated callee who
# answers and speaks. Prints the call's outcome and the recent calls.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"

scripts/setup.sh
scripts/pbx.sh start
set -a
eval "$(scripts/pbx.sh env)"
VOICEBOT_DATA_DIR=${VOICEBOT_DATA_DIR:-$here/data}
set +a
voicebot() { .venv/bin/voicebot --log-level WARNING "$@"; }

voicebot db upgrade
voicebot doctor
echo
echo "== demo call: a lab callee who answers and says she is interested"
voicebot call "Local/play-interested@voicebot-lab/n" --lead demo-1
echo
echo "== demo call: a lab callee whose line is busy"
voicebot call "Local/busy@voicebot-lab/n" --lead demo-2
echo
echo "== recent calls"
voicebot calls -n 5
