"""A call in progress as this process knows it, and small helpers the call service's parts share."""

from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from voicebot.calls.session import SessionResult
from voicebot.errors import AgiError
from voicebot.store import CallRecord
from voicebot.telephony.pbx import CallHandle

#: How long a call handed to an agent is followed before its record is closed anyway.
MAX_TRANSFERRED_SECONDS = 4 * 3600.0


@dataclass
class Live:
    """A call in progress, known to this process."""

    call_id: str
    handle: CallHandle | None = None
    agi_seen: bool = False  # the PBX brought the answered call to the bot (FastAGI)
    media_started: bool = False
    #: The AudioSocket session id the bot's AGI gave the PBX for this call: random, sent only
    #: over the FastAGI connection, so knowing the call id is not enough to connect media.
    media_id: str | None = None
    session_done: asyncio.Event = field(default_factory=asyncio.Event)
    session_result: SessionResult | None = None
    recording: str | None = None
    machine: str | None = None  # AMD's cause, when an answering machine took the call
    #: The campaign's AMD (hangup, message) when voicebot detects machines itself (FreeSWITCH)
    amd: str = ""
    record: CallRecord | None = None  # as written so far
    #: The warm transfer: when the callee joined the queue (loop time), how long they may wait,
    #: whether an agent declined in the whisper, whether one took the call.
    transferred_at: float | None = None
    agent_wait: float = 120.0
    declined: int = 0
    agent_took: bool = False
    #: No agent took the transfer in time: the bot took the callee back (its second session).
    back: bool = False
    #: A callee calling back the number the robot showed (voicebot-inbound), not a call we placed.
    inbound: bool = False
    #: The bot waited for the callee to hang up first (its hangup grace), for inspection.
    bot_waited: bool = False


#: An Asterisk channel's uniqueid or linkedid ("1733212345.67", "pbx1-1733212345.67" with a systemname):
#: the call id of a call voicebot did not originate (an inbound call).
_ASTERISK_ID = re.compile(r"(?:[A-Za-z0-9_]{1,20}-)?\d{1,12}\.\d{1,10}")


def is_call_id(text: str) -> bool:
    """A call id voicebot gives (a UUID) or an inbound call's (its Asterisk linkedid)."""
    return is_uuid(text) or _ASTERISK_ID.fullmatch(text) is not None


def is_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text.lower()
    except ValueError:
        return False


async def quietly(coro: Any) -> None:
    try:
        await coro
    except AgiError:
        pass
