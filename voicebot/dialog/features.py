"""Text features that work for Chinese and English without a tokenizer. Pure.

Words are runs of Latin letters and digits; each CJK character is a token of its
own (character n-grams carry the rest). Negation is made visible: after an
English negator the next words become ``not_<word>``, and a Chinese negator
(不 没 别 无 非) joins the next characters into ``not_<chars>``, so "not
interested" and 不感兴趣 do not look like "interested" and 感兴趣.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import opencc

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[\u3400-\u9fff\uf900-\ufaff]")
_EN_NEGATORS = frozenset(
    {
        "not",
        "no",
        "never",
        "nothing",
        "nobody",
        "none",
        "neither",
        "nor",
        "without",
        "don't",
        "dont",
        "doesn't",
        "doesnt",
        "didn't",
        "didnt",
        "isn't",
        "isnt",
        "aren't",
        "arent",
        "wasn't",
        "won't",
        "wont",
        "can't",
        "cant",
        "cannot",
        "shouldn't",
        "wouldn't",
        "haven't",
        "hasn't",
        "nope",
    }
)
_ZH_NEGATORS = frozenset("不没别无非未")
#: Negated words that mean yes ("no problem", 没问题): not a negation.
_POSITIVE_IDIOMS = re.compile(
    r"\b(?:no problem|no worries|why not|not bad|no doubt|don'?t mind|doesn'?t matter)\b"
    r"|没问题|没错|不错|没关系|不介意|不客气|可不是"
)
_EN_SCOPE = 3  # words a negator reaches
_ZH_SCOPE = 2  # characters a negator reaches


def normalize(text: str) -> str:
    """Lower case, full-width forms folded (ＡＢＣ -> abc), traditional Chinese characters as
    simplified (對 -> 对: scripts are written in simplified, and Whisper often answers in
    traditional), whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text).lower()
    if _CJK.search(text):
        text = _simplified().convert(text)
    return " ".join(text.split())


_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@functools.cache
def _simplified() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def tokens(text: str) -> list[str]:
    """Word tokens with negation marked."""
    raw = _TOKEN.findall(normalize(text))
    out: list[str] = []
    en_scope = 0
    i = 0
    while i < len(raw):
        tok = raw[i]
        if tok in _ZH_NEGATORS:
            reach = "".join(t for t in raw[i + 1 : i + 1 + _ZH_SCOPE] if _is_cjk(t))
            out.append(tok)
            if reach:
                out.append(f"not_{reach}")
            i += 1
            continue
        if tok in _EN_NEGATORS:
            out.append(tok)
            en_scope = _EN_SCOPE
        elif en_scope and not _is_cjk(tok):
            out.append(f"not_{tok}")
            en_scope -= 1
        else:
            out.append(tok)
        i += 1
    return out


def _is_cjk(token: str) -> bool:
    return len(token) == 1 and "\u3400" <= token <= "\ufaff"


def negated(text: str) -> bool:
    """The text says no somewhere: an English or Chinese negator outside the idioms that mean yes."""
    plain = _POSITIVE_IDIOMS.sub(" ", normalize(text))
    return any(tok in _EN_NEGATORS or tok in _ZH_NEGATORS for tok in _TOKEN.findall(plain))
