"""The published JSON Schema of flow.yml matches the code."""

import json
from pathlib import Path

from voicebot.dialog.flow import Flow

ROOT = Path(__file__).resolve().parents[2]


def test_published_schema_is_current():
    published = json.loads((ROOT / "docs/flow.schema.json").read_text())
    assert published == Flow.model_json_schema(), "regenerate: voicebot script schema > docs/flow.schema.json"
    assert {"nodes", "start", "company"} <= set(published["required"])
