"""Asterisk's call detail records, read back: the PBX's own word on a call.

Asterisk writes one CDR row per call leg when the leg ends (``cdr_pgsql`` into the
table of ``dialplans/asterisk/cdr_pgsql.sql``, times as epoch seconds). The first leg
of every call voicebot places has the call id as its Uniqueid (Originate
``ChannelId``), so when the worker that held a call died, the one that reconciles its
attempt still learns how the call really went: answered or not (busy, no answer),
and for how long the callee was on the line.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from voicebot.errors import TelephonyError

_TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


@dataclass(frozen=True, slots=True)
class Cdr:
    """One call's first leg, as Asterisk recorded it."""

    disposition: str  # ANSWERED, NO ANSWER, BUSY, FAILED, CONGESTION
    start: float  # epoch seconds
    answer: float | None
    end: float
    billsec: float  # seconds from answer to end


class CdrError(TelephonyError):
    """The CDR database could not be read."""


class CdrReader:
    """Reads the CDR table Asterisk writes (``[cdr] url``, ``table``)."""

    def __init__(self, url: str, table: str = "cdr") -> None:
        if not _TABLE.match(table):
            raise CdrError(f"invalid CDR table name {table!r}", hint="use a plain or schema.table name")
        self._engine = create_engine(url, pool_pre_ping=True, pool_size=1, max_overflow=1)
        self._query = text(
            f'SELECT disposition, start, answer, "end", billsec FROM {table} '  # a validated name
            "WHERE uniqueid = :call_id ORDER BY sequence DESC LIMIT 1"
        )

    async def find(self, call_id: str) -> Cdr | None:
        """The call's record (None: Asterisk has written none, or not yet)."""
        return await asyncio.to_thread(self._find, call_id)

    def _find(self, call_id: str) -> Cdr | None:
        try:
            with self._engine.connect() as conn:
                row = conn.execute(self._query, {"call_id": call_id}).first()
        except SQLAlchemyError as e:
            raise CdrError(
                f"cannot read the CDR of call {call_id}: {e.__class__.__name__}",
                hint="check [cdr] url, and that Asterisk's cdr_pgsql writes there",
            ) from e
        if row is None:
            return None
        disposition, start, answer, end, billsec = row
        return Cdr(str(disposition), float(start), float(answer) or None, float(end), float(billsec))

    def close(self) -> None:
        self._engine.dispose()
