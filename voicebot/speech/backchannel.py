"""Backchannels: "uh-huh", "yeah", 嗯, 对 said while the bot speaks are listening, not
interrupting. Pure.

While an interruptible prompt plays, speech that lasts less than ``longest`` seconds is decided
by its words once it ends: a backchannel (only such words, or no words at all: a cough, line
noise) lets the prompt go on; a stop word ("wait", "no", 等一下, 不用了) or anything else stops
it. Longer speech stops the prompt as soon as it is that long, words or not.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

#: What callees say to show they listen, by language.
BACKCHANNELS: dict[str, tuple[str, ...]] = {
    "en": (
        "uh-huh", "uh huh", "uhuh", "mm-hmm", "mm hmm", "mhm", "mm", "hmm", "hm", "uh", "um", "ah",
        "oh", "aha", "yeah", "yes", "yep", "yup", "right", "okay", "ok", "sure", "i see", "got it",
        "alright", "all right", "cool", "fine", "go on",
    ),
    "zh": (
        "嗯嗯", "嗯哼", "嗯", "哦", "噢", "喔", "啊", "呃", "对对对", "对对", "对", "好的", "好",
        "是的", "是", "行", "明白", "知道了", "然后呢",
    ),
}  # fmt: skip
#: Words that stop the bot however short: the callee wants to speak.
STOP_WORDS: dict[str, tuple[str, ...]] = {
    "en": (
        "wait", "stop", "hold on", "hang on", "no", "nope", "sorry", "excuse me", "pardon",
        "not interested", "don't", "hello",
    ),
    "zh": ("等一下", "等等", "停", "不用", "不要", "不需要", "别说了", "打住", "不是", "没兴趣", "喂"),
}  # fmt: skip
_PUNCT = re.compile(r"[\s.,!?;:…~\"'()\[\]，。！？；：、“”‘’（）]+")


@dataclass(frozen=True, slots=True)
class Backchannels:
    words: tuple[str, ...]
    stop_words: tuple[str, ...]
    #: Speech longer than this (seconds) is no backchannel: it stops the prompt at once.
    longest: float = 0.9

    @classmethod
    def for_language(
        cls,
        language: str,
        words: Sequence[str] | None = None,
        stop_words: Sequence[str] | None = None,
        longest: float = 0.9,
    ) -> Backchannels:
        """The language's lists (``zh-CN`` is ``zh``; other languages use English's), or the
        script's own."""
        lang = "zh" if language.lower().startswith("zh") else "en"
        return cls(
            tuple(w.lower() for w in (words if words is not None else BACKCHANNELS[lang])),
            tuple(w.lower() for w in (stop_words if stop_words is not None else STOP_WORDS[lang])),
            longest,
        )

    def is_backchannel(self, text: str) -> bool:
        """Whether ``text`` (what the recognizer heard) only shows the callee is listening."""
        said = _PUNCT.sub(" ", text.lower()).strip()
        if not said:
            return True  # no words: noise, a cough
        if any(_find(stop).search(said) for stop in self.stop_words):
            return False
        rest = said
        for word in sorted(self.words, key=len, reverse=True):  # "uh huh" before "uh"
            rest = _find(word).sub(" ", rest)
        return not rest.strip()


def _find(word: str) -> re.Pattern[str]:
    """A Latin word or phrase as a whole word; Chinese anywhere (no spaces between words)."""
    escaped = re.escape(word)
    return re.compile(rf"(?<!\S){escaped}(?!\S)" if word.isascii() else escaped)
