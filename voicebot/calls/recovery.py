"""How a call cut short by a fault of ours is closed, and what it had learned. Pure.

Every turn and every script decision is journaled as it happens (``heard``, ``prompt``,
``understood``, ``opt_out``, ``transfer`` events, through the outbox). When the worker
holding a call dies, the call ends with it, but its journal stays; the worker that
reconciles the attempt closes it with what the callee had said, not as if nobody had
answered: an interested callee stays a warm lead.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from voicebot.dialog.grading import grade
from voicebot.store import CallRecord, EventRecord
from voicebot.telephony.callstate import Disposition
from voicebot.telephony.cdr import Cdr

#: The end reason of a call its worker's death cut short.
WORKER_CRASH = "worker-crash"


#: Asterisk's CDR dispositions, as ours.
CDR_DISPOSITIONS = {
    "ANSWERED": Disposition.ANSWERED,
    "NO ANSWER": Disposition.NO_ANSWER,
    "BUSY": Disposition.BUSY,
    "CONGESTION": Disposition.CONGESTION,
    "FAILED": Disposition.FAILED,
}


def cut_short(reason: str, intents: Sequence[str]) -> dict[str, Any]:
    """The fields of an answered call a fault cut before its script reached an outcome.

    ``interrupted``: our fault, not the callee's, with its own retry delay. It is graded
    on the intents heard, and not graded at all when none were (never E, "hung up early").
    """
    return {
        "end_reason": reason,
        "disposition": Disposition.INTERRUPTED.value,
        "grade": grade(connected=True, outcome=None, intents=intents) if intents else None,
    }


def interrupted(record: CallRecord, events: Sequence[EventRecord]) -> dict[str, Any]:
    """The fields that close ``record`` after its worker died mid-call.

    A call nobody answered (as far as the journal tells) is ``unknown``. One the bot had
    handed to an agent is ``answered``/``transferred``. Any other answered call is
    ``interrupted``: our fault, not the callee's, with its own retry delay; it is graded
    on the intents heard, and not graded at all when none were.
    """
    kinds = {e.kind for e in events}
    answered = record.answered_at is not None or bool(kinds & {"agi", "media_started", "heard", "prompt"})
    if not answered:
        return {"disposition": Disposition.UNKNOWN.value}
    intents = [str(e.data["intent"]) for e in events if e.kind == "understood" and e.data.get("intent")]
    turns = [
        {
            "speaker": "bot" if e.kind == "prompt" else "callee",
            "text": str(e.data.get("text", "")),
            "start": e.data["start"],
            "end": e.data["end"],
        }
        for e in events
        if e.kind in ("prompt", "heard") and "start" in e.data
    ]
    fields: dict[str, Any] = {"transcript": turns, "intents": intents, "opted_out": "opt_out" in kinds}
    if "transfer" in kinds:  # the callee had reached an agent: the bot's work was done
        outcome = "transferred"
        return {
            **fields,
            "end_reason": WORKER_CRASH,
            "disposition": Disposition.ANSWERED.value,
            "outcome": outcome,
            "grade": grade(connected=True, outcome=outcome, intents=intents),
        }
    return {**fields, **cut_short(WORKER_CRASH, intents)}


def with_cdr(fields: dict[str, Any], cdr: Cdr) -> dict[str, Any]:
    """``fields`` (from :func:`interrupted`) completed by the PBX's own record of the call.

    The CDR gives the real times (ring, answer, end) and talk time. When the journal never
    saw the call answered, the CDR also says why: busy or no answer is the callee's, like
    any attempt; answered means the callee picked up a call the dead worker could not take
    (``interrupted``: ours).
    """
    out = {
        **fields,
        "originated_at": _at(cdr.start),
        "ended_at": _at(cdr.end),
        "ring_seconds": round((cdr.answer or cdr.end) - cdr.start, 3),
    }
    if cdr.answer is not None:
        out.update(answered_at=_at(cdr.answer), talk_seconds=round(cdr.billsec, 3))
        if fields["disposition"] == Disposition.UNKNOWN.value:
            out.update(cut_short(WORKER_CRASH, ()))
    elif fields["disposition"] == Disposition.UNKNOWN.value:
        out["disposition"] = CDR_DISPOSITIONS.get(cdr.disposition, Disposition.FAILED).value
    return out


def _at(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)
