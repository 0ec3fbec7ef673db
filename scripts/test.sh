#!/usr/bin/env bash
# Run every test: set up what is missing (scripts/setup.sh, the Rasa model), start PostgreSQL
# the lab Asterisk and FreeSWITCH, lint and type-check, then pytest. Extra arguments go to pytest.
set -euo pipefail
# installed PKG: the package is installed (a removed one whose config files are left is not,
# though `dpkg -s` says it exists)
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"

scripts/setup.sh
# Debian's chromium and its driver: the console's browser tests (tests/browser) drive them
need=()
for pkg in chromium chromium-driver; do installed "$pkg" || need+=("$pkg"); done
if [ ${#need[@]} -gt 0 ]; then
    echo "test: installing ${need[*]}" >&2
    if [ "$(id -u)" = 0 ]; then sudo=(); else sudo=(sudo); fi
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Dpkg::Use-Pty=0 "${need[@]}" >/dev/null
fi
# Rasa 3.6 (its own Python 3.10 venv) and the English sample trained with it, for tests/integration/test_rasa.py
scripts/rasa.sh prepare intents/broadband-en >/dev/null
scripts/postgres.sh start
scripts/pbx.sh start
scripts/freeswitch.sh start
VOICEBOT_TEST_POSTGRES_URL=$(scripts/postgres.sh url)
export VOICEBOT_TEST_POSTGRES_URL

.venv/bin/ruff check voicebot tests bench
.venv/bin/ruff format --check voicebot
.venv/bin/mypy
exec .venv/bin/pytest "$@"
