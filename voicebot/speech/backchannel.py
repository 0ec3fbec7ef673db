"""Backchannels: short acknowledgements said over the bot ("uh-huh", "right", 嗯, 对) that mean
"go on", not "stop". Pure.

While the bot speaks, short speech is heard before it may stop the prompt: if its words are
all backchannels, and none is a stop word ("wait", 等一下), the prompt goes on. Speech that
lasts longer than ``max_seconds`` stops the prompt at once, whatever it says (the callee is
talking, not acknowledging). Speech the recognizer made no words of (a cough, line noise) does
not stop it either.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: What callees say to mean "I'm listening, go on", per language.
BACKCHANNELS: dict[str, tuple[str, ...]] = {
    "en": (
        "uh-huh", "uh huh", "mm-hmm", "mm hmm", "mhm", "hmm", "mm", "uh", "um", "ah", "oh",
        "yeah", "yep", "yes", "right", "okay", "ok", "sure", "alright", "i see", "got it",
        "go on", "go ahead", "cool", "fine",
    ),
    "zh": (
        "嗯", "嗯嗯", "恩", "哦", "噢", "喔", "啊", "对", "对对", "对的", "是", "是的", "是啊",
        "好", "好的", "行", "明白", "知道了", "了解",
        "對", "對對", "對的", "明白了",  # Whisper often writes traditional characters
    ),
}  # fmt: skip
#: Words that stop the bot even inside an acknowledgement ("yeah, wait").
STOP_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("wait", "stop", "hold on", "hang on", "no", "sorry", "excuse me", "pardon", "what"),
    "zh": ("等一下", "等等", "停", "不用了", "不要", "不是", "别说了", "什么", "喂", "別說了", "什麼"),
}
#: Speech over a prompt longer than this stops it without waiting for its words.
MAX_SECONDS = 1.2

_PUNCTUATION = re.compile(r"[^\w\s'-]|_")


@dataclass(frozen=True, slots=True)
class Backchannels:
    """Which short answers let a prompt go on."""

    words: tuple[str, ...]
    stop_words: tuple[str, ...] = ()
    max_seconds: float = MAX_SECONDS

    @classmethod
    def for_language(
        cls,
        language: str,
        words: tuple[str, ...] | None = None,
        stop_words: tuple[str, ...] | None = None,
        max_seconds: float = MAX_SECONDS,
    ) -> Backchannels:
        """The language's lists (English for a language without its own), or the ones given."""
        base = language.split("-")[0].lower()
        return cls(
            words if words is not None else BACKCHANNELS.get(base, BACKCHANNELS["en"]),
            stop_words if stop_words is not None else STOP_WORDS.get(base, STOP_WORDS["en"]),
            max_seconds,
        )

    def lets_go_on(self, text: str) -> bool:
        """True when ``text`` (what the callee said over the prompt) is only acknowledgement:
        nothing but backchannels, or no words at all; False when it has a stop word or
        anything else."""
        said = _clean(text)
        if any(_has(said, _clean(word)) for word in self.stop_words):
            return False
        for word in sorted(self.words, key=len, reverse=True):
            said = _remove(said, _clean(word))
        return not re.search(r"\w", said)


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return " ".join(_PUNCTUATION.sub(" ", text).split())


def _pattern(word: str) -> re.Pattern[str]:
    """Latin words whole (``no`` is not in ``know``); Chinese anywhere (no spaces between words)."""
    if re.search(r"[a-z0-9]", word):
        return re.compile(rf"(?<![\w'-]){re.escape(word)}(?![\w'-])")
    return re.compile(re.escape(word))


def _has(text: str, word: str) -> bool:
    return bool(word) and _pattern(word).search(text) is not None


def _remove(text: str, word: str) -> str:
    return _pattern(word).sub(" ", text) if word else text
