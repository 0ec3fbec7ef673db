#!/usr/bin/env bash
# Run every test: set up what is missing (scripts/setup.sh, the Rasa model), start PostgreSQL
# and the lab Asterisk, lint and type-check, then pytest. Extra arguments go to pytest.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"

scripts/setup.sh
# Rasa 3.6 (its own Python 3.10 venv) and the English sample trained with it, for tests/integration/test_rasa.py
scripts/rasa.sh prepare intents/broadband-en >/dev/null
scripts/postgres.sh start
scripts/pbx.sh start
VOICEBOT_TEST_POSTGRES_URL=$(scripts/postgres.sh url)
export VOICEBOT_TEST_POSTGRES_URL

.venv/bin/ruff check voicebot tests bench
.venv/bin/ruff format --check voicebot
.venv/bin/mypy
exec .venv/bin/pytest "$@"
