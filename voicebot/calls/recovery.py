"""What a call cut short by its worker's death had learned, read back from its journal. Pure.

Every turn and every script decision is journaled as it happens (``heard``, ``prompt``,
``understood``, ``opt_out``, ``transfer`` events, through the outbox). When the worker
holding a call dies, the call ends with it, but its journal stays; the worker that
reconciles the attempt closes it with what the callee had said, not as if nobody had
answered: an interested callee stays a warm lead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from voicebot.dialog.grading import grade
from voicebot.store import CallRecord, EventRecord
from voicebot.telephony.callstate import Disposition

#: The end reason of a call its worker's death cut short.
WORKER_CRASH = "worker-crash"


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
    fields: dict[str, Any] = {
        "end_reason": WORKER_CRASH,
        "transcript": turns,
        "intents": intents,
        "opted_out": "opt_out" in kinds,
    }
    if "transfer" in kinds:  # the callee had reached an agent: the bot's work was done
        outcome = "transferred"
        return {
            **fields,
            "disposition": Disposition.ANSWERED.value,
            "outcome": outcome,
            "grade": grade(connected=True, outcome=outcome, intents=intents),
        }
    fields["disposition"] = Disposition.INTERRUPTED.value
    fields["grade"] = grade(connected=True, outcome=None, intents=intents) if intents else None
    return fields
