"""Logging: one line per record, with the call id when there is one.

Phone numbers and transcripts never go in the message; put them in ``extra``
fields, which production can drop.
"""

from __future__ import annotations

import logging


class _CallIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        call_id = getattr(record, "call_id", None)
        record.call = f" [{call_id[:8]}]" if call_id else ""
        return True


def setup(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.addFilter(_CallIdFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s%(call)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("panoramisk", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
