"""The outbound call's state machine and its disposition: pure, no I/O.

The AMI edge turns Asterisk events into the small events below; ``CallProgress``
folds them into the call's state, and ``disposition`` maps the outcome:

    PENDING -> ORIGINATED -> RINGING -> ANSWERED -> HUNGUP
                   \\____________\\_______________/

A call is *settled* when its channel is gone and the originate's result is
known (or the channel was answered, which says the same).

A PBX that restarts or stops takes its calls with it: it hangs their channels up
with no cause (0) a moment before it says ``Shutdown``, or, when it crashes, says
nothing and is found restarted after the reconnect. ``PbxDown`` marks the calls
it cut (``cut_by``), so they are never taken for a callee who hung up.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace


class CallState(enum.StrEnum):
    PENDING = "pending"
    ORIGINATED = "originated"
    RINGING = "ringing"
    ANSWERED = "answered"
    HUNGUP = "hungup"


class Disposition(enum.StrEnum):
    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    CONGESTION = "congestion"
    FAILED = "failed"
    MACHINE = "machine"  # answered by an answering machine (the dialplan's AMD)
    UNKNOWN = "unknown"  # voicebot lost track of the call (AMI down while it ended)
    INTERRUPTED = "interrupted"  # answered, then cut by a fault of ours (worker died, PBX restarted)
    DECLINED = "declined"  # the callee's phone or network declined the call (SIP 603)
    INVALID = "invalid"  # no such number (SIP 404, 484, 485, 604, 410; Q.850 1, 22, 28)
    REJECTED = "rejected"  # the trunk refused to carry it: authentication, credit, caller id (401/403/407)
    TRUNK_ERROR = "trunk_error"  # the trunk or carrier failed (SIP 5xx): not the callee's doing
    PBX_ERROR = "pbx_error"  # the PBX tore the channel down before it reached the trunk (no RTP port...)


#: A hangup with no cause this close before the PBX goes down was the PBX's doing.
PBX_DOWN_WINDOW = 3.0


@dataclass(frozen=True, slots=True)
class Originated:
    at: float
    channel: str


@dataclass(frozen=True, slots=True)
class Ringing:
    at: float


@dataclass(frozen=True, slots=True)
class Answered:
    at: float


@dataclass(frozen=True, slots=True)
class HungUp:
    """A channel of the call hung up; ``primary`` is the originated channel itself.
    ``tech_cause`` is the channel driver's own cause: for PJSIP, the SIP final response
    (Asterisk's ``TechCause``), which tells a trunk's 403 from a callee's 603 (both Q.850 21)."""

    at: float
    cause: int
    cause_text: str
    primary: bool = True
    tech_cause: int | None = None


@dataclass(frozen=True, slots=True)
class HangupRequested:
    """Something asked the call's channel to hang up, with a cause. Over PJSIP a callee's BYE
    is reported here as 16 while the Hangup event that follows says 0 "Unknown"."""

    at: float
    cause: int


@dataclass(frozen=True, slots=True)
class OriginateResult:
    """Asterisk's OriginateResponse: ``reason`` is the last control frame seen (4 = answered)."""

    at: float
    success: bool
    reason: int


@dataclass(frozen=True, slots=True)
class Vanished:
    """After an AMI reconnect the call's channel no longer exists: it ended unseen."""

    at: float


@dataclass(frozen=True, slots=True)
class PbxDown:
    """The PBX went down at ``at`` (``reason``: pbx-restart, pbx-shutdown, pbx-crash)."""

    at: float
    reason: str


CallEvent = Originated | Ringing | Answered | HangupRequested | HungUp | OriginateResult | Vanished | PbxDown

# Q.850 cause codes by disposition (21, call rejected, is 401/403/407 and 603 alike: the SIP
# response, when Asterisk reports it, tells a trunk's refusal from a callee's).
_BUSY_CAUSES = frozenset({17, 21})  # user busy, call rejected
_INVALID_CAUSES = frozenset({1, 22, 28})  # unallocated number, number changed, invalid format
_NO_ANSWER_CAUSES = frozenset({18, 19, 20})  # no user responding, no answer, subscriber absent
_CONGESTION_CAUSES = frozenset({34, 38, 41, 42, 44, 47})
# OriginateResponse reasons (the AST_CONTROL_* frame that ended the attempt).
_REASON_NO_ANSWER, _REASON_ANSWERED, _REASON_BUSY, _REASON_CONGESTION = 3, 4, 5, 8


#: Asterisk's names of the Q.850 causes a hangup request carries.
Q850_NAMES = {
    16: "Normal Clearing",
    17: "User busy",
    18: "No user responding",
    19: "User alerting, no answer",
    21: "Call Rejected",
    31: "Normal, unspecified",
    34: "Circuit/channel congestion",
    38: "Network out of order",
}


#: SIP final responses by disposition (RFC 3261 and the carriers' use of them).
_SIP = {
    **dict.fromkeys((486, 600), Disposition.BUSY),
    **dict.fromkeys((408, 480, 487), Disposition.NO_ANSWER),
    603: Disposition.DECLINED,
    **dict.fromkeys((404, 410, 484, 485, 604), Disposition.INVALID),
    **dict.fromkeys((401, 403, 407), Disposition.REJECTED),
}


#: The reason phrases of the SIP responses a carrier commonly ends a call with.
SIP_REASONS = {
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    410: "Gone",
    480: "Temporarily Unavailable",
    484: "Address Incomplete",
    485: "Ambiguous",
    486: "Busy Here",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    500: "Server Internal Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Server Time-out",
    600: "Busy Everywhere",
    603: "Decline",
    604: "Does Not Exist Anywhere",
}


def sip_response(status: int | None) -> str | None:
    """``403 Forbidden``: a SIP status with its usual reason phrase, for records and logs."""
    if status is None:
        return None
    return f"{status} {SIP_REASONS[status]}" if status in SIP_REASONS else str(status)


def sip_disposition(status: int) -> Disposition | None:
    """The disposition a SIP final response means, when it says more than the Q.850 cause."""
    if status in _SIP:
        return _SIP[status]
    if 500 <= status <= 599:
        return Disposition.TRUNK_ERROR
    return None


def disposition(*, answered: bool, reason: int | None, cause: int, sip: int | None = None) -> Disposition:
    """Map the outcome of an originate to a disposition.

    An answer wins; then the SIP response that ended the call, when known (a trunk's 403 is
    not a busy callee); then the OriginateResponse reason when it is specific (busy,
    congestion, ring timeout); otherwise the hangup cause.
    """
    if answered or reason == _REASON_ANSWERED:
        return Disposition.ANSWERED
    by_sip = sip_disposition(sip) if sip is not None else None
    if by_sip is not None:
        return by_sip
    if reason == _REASON_BUSY:
        return Disposition.BUSY
    if reason == _REASON_CONGESTION:
        return Disposition.CONGESTION
    if reason == _REASON_NO_ANSWER:
        return Disposition.NO_ANSWER
    if cause in _BUSY_CAUSES:
        return Disposition.BUSY
    if cause in _NO_ANSWER_CAUSES:
        return Disposition.NO_ANSWER
    if cause in _CONGESTION_CAUSES:
        return Disposition.CONGESTION
    if cause in _INVALID_CAUSES:
        return Disposition.INVALID
    return Disposition.FAILED


@dataclass(frozen=True, slots=True)
class CallProgress:
    """Everything known about one originated call, folded from its events."""

    state: CallState = CallState.PENDING
    channel: str = ""
    originated_at: float | None = None
    ringing_at: float | None = None
    answered_at: float | None = None
    ended_at: float | None = None
    cause: int = 0
    cause_text: str = ""
    originate_reason: int | None = None
    originate_success: bool | None = None
    vanished: bool = False
    cut_by: str = ""  # the PBX fault that ended the call, if one did
    sip_status: int | None = None  # the SIP final response that ended it unanswered, when known

    def apply(self, event: CallEvent) -> CallProgress:
        """The progress after ``event``; events after the end only refine the cause."""
        match event:
            case Originated(at, channel):
                if self.state is CallState.PENDING:
                    return replace(self, state=CallState.ORIGINATED, channel=channel, originated_at=at)
                return replace(self, channel=self.channel or channel)
            case Ringing(at):
                if self.state in (CallState.PENDING, CallState.ORIGINATED):
                    return replace(
                        self, state=CallState.RINGING, ringing_at=at, originated_at=self.originated_at or at
                    )
            case Answered(at):
                if self.state not in (CallState.ANSWERED, CallState.HUNGUP):
                    return replace(
                        self, state=CallState.ANSWERED, answered_at=at, originated_at=self.originated_at or at
                    )
            case HangupRequested(at, cause):
                if cause and not self.cause and self.state is not CallState.HUNGUP:
                    return replace(self, cause=cause, cause_text=Q850_NAMES.get(cause, f"cause {cause}"))
            case HungUp(at, cause, text, primary, tech):
                if primary and self.state is not CallState.HUNGUP:
                    keep = self.cause if cause == 0 else cause
                    refused = self.answered_at is None and tech is not None and 400 <= tech <= 699
                    return replace(
                        self,
                        state=CallState.HUNGUP,
                        ended_at=at,
                        cause=keep,
                        cause_text=text if cause or not self.cause_text else self.cause_text,
                        sip_status=tech if refused else self.sip_status,
                    )
                if self.cause == 0 and cause != 0:  # a peer leg knows the real cause
                    return replace(self, cause=cause, cause_text=text)
            case OriginateResult(at, success, reason):
                progress = replace(self, originate_success=success, originate_reason=reason)
                if success and progress.answered_at is None:
                    progress = replace(progress, answered_at=at)
                    if not progress.ended:
                        progress = replace(progress, state=CallState.ANSWERED)
                return progress
            case Vanished(at):
                if self.state is not CallState.HUNGUP:
                    return replace(
                        self,
                        state=CallState.HUNGUP,
                        ended_at=at,
                        vanished=True,
                        cause_text=self.cause_text or "ended while AMI was disconnected",
                    )
            case PbxDown(at, reason):
                if self.cut_by:
                    return self
                if not self.ended:
                    return replace(
                        self, state=CallState.HUNGUP, ended_at=at, cut_by=reason, cause_text=reason
                    )
                assert self.ended_at is not None
                if self.cause == 0 and at - self.ended_at <= PBX_DOWN_WINDOW:
                    return replace(self, cut_by=reason, cause_text=reason)
        return self

    @property
    def ended(self) -> bool:
        return self.state is CallState.HUNGUP

    @property
    def settled(self) -> bool:
        """Ended, and nothing still to learn that would change the disposition."""
        if not self.ended:
            return False
        known = self.answered_at is not None or self.originate_success is not None
        return bool(self.vanished or self.cut_by) or known

    @property
    def disposition(self) -> Disposition:
        if self.cut_by:  # the PBX's fault: never the callee's answer, busy or no-answer
            return Disposition.INTERRUPTED if self.answered_at is not None else Disposition.FAILED
        if self.vanished and self.answered_at is None:
            return Disposition.UNKNOWN
        if self.refused_by_pbx:
            return Disposition.PBX_ERROR
        return disposition(
            answered=self.answered_at is not None,
            reason=self.originate_reason,
            cause=self.cause,
            sip=self.sip_status,
        )

    @property
    def refused_by_pbx(self) -> bool:
        """The PBX created the channel and tore it down itself: it never rang, no SIP response
        came back, and Asterisk gave no cause (its log says why: no free RTP port, say)."""
        return (
            self.ended
            and bool(self.channel)
            and self.ringing_at is None
            and self.answered_at is None
            and self.sip_status is None
            and self.cause == 0
            and self.originate_success is False
            and not self.originate_reason
        )

    @property
    def talk_seconds(self) -> float | None:
        """Seconds from answer to hangup (billable duration)."""
        if self.answered_at is None or self.ended_at is None:
            return None
        return max(0.0, self.ended_at - self.answered_at)

    @property
    def ring_seconds(self) -> float | None:
        """Seconds from originate to answer or end."""
        start = self.originated_at
        stop = self.answered_at or self.ended_at
        if start is None or stop is None:
            return None
        return max(0.0, stop - start)
