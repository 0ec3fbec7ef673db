"""Rasa as an optional NLU backend: export a script's intents as a Rasa project, and classify
through a running ``rasa run --enable-api`` server (``POST /model/parse``)."""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import yaml

from voicebot.dialog.classifier import Prediction
from voicebot.dialog.intents import NluData
from voicebot.errors import ConfigError

_COMMON_TAIL = [
    {"name": "RegexFeaturizer"},
    {"name": "LexicalSyntacticFeaturizer"},
    {"name": "CountVectorsFeaturizer"},
    {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 1, "max_ngram": 4},
    {"name": "DIETClassifier", "epochs": 100, "random_seed": 1},
    {"name": "EntitySynonymMapper"},
]


def export_rasa(nlu: NluData, out: Path, *, language: str) -> Path:
    """Write a trainable Rasa 3.x project (config, domain, data) for these intents.

    A Chinese script gets the Jieba tokenizer; others split on whitespace.
    """
    chinese = language.lower().startswith(("zh", "cmn"))
    out.mkdir(parents=True, exist_ok=True)
    (out / "data").mkdir(exist_ok=True)
    tokenizer = {"name": "JiebaTokenizer"} if chinese else {"name": "WhitespaceTokenizer"}
    config = {
        "recipe": "default.v1",
        "language": "zh" if chinese else "en",
        "pipeline": [tokenizer, *_COMMON_TAIL],
        "policies": [],
    }
    (out / "config.yml").write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    entities = sorted(
        {e for ex in nlu.intents.values() for x in ex for e in (en.entity for en in x.entities)}
        | {n for n in nlu.regexes if n not in nlu.intents}
        | set(nlu.lookups)
    )
    domain = {"version": "3.1", "intents": sorted(nlu.intents), "entities": entities}
    (out / "domain.yml").write_text(yaml.safe_dump(domain, allow_unicode=True, sort_keys=False))
    for i, source in enumerate(nlu.files):
        shutil.copyfile(source, out / "data" / f"nlu{'' if i == 0 else i}.yml")
    return out


class RasaClassifier:
    """The classifier interface, answered by a Rasa server."""

    def __init__(self, url: str, *, threshold: float = 0.4, timeout: float = 2.0) -> None:
        self.url = url.rstrip("/")
        self.threshold = threshold
        self.timeout = timeout

    def predict(self, text: str) -> Prediction:
        body = json.dumps({"text": text}).encode()
        request = urllib.request.Request(
            f"{self.url}/model/parse", data=body, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                parsed = json.loads(response.read())
        except (urllib.error.URLError, TimeoutError, json.JSONDecodeError) as e:
            raise ConfigError(
                f"Rasa server at {self.url} did not answer: {e}",
                hint="start it: scripts/rasa.sh serve MODEL PORT",
            ) from e
        intent = parsed.get("intent") or {}
        ranking = tuple(
            (r["name"], round(float(r["confidence"]), 4)) for r in parsed.get("intent_ranking", [])[:5]
        )
        name, confidence = intent.get("name"), float(intent.get("confidence") or 0.0)
        if not name or confidence < self.threshold:
            return Prediction(None, confidence, "rasa", ranking)
        return Prediction(name, round(confidence, 4), "rasa", ranking)
