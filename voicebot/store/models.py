"""Tables: one row per call, and its timeline of events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def aware(value: Any) -> Any:
    """SQLite keeps no time zone: every stored time is UTC."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Call(Base):
    __tablename__ = "calls"
    #: reports read a campaign's calls over a period
    __table_args__ = (Index("ix_calls_campaign_created", "campaign_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    direction: Mapped[str] = mapped_column(String(16), default="outbound")
    destination: Mapped[str] = mapped_column(String(255))
    channel: Mapped[str] = mapped_column(String(255), default="")
    lead_id: Mapped[str | None] = mapped_column(String(64), index=True)
    campaign_id: Mapped[str | None] = mapped_column(String(64), index=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    disposition: Mapped[str | None] = mapped_column(String(16), index=True)
    hangup_cause: Mapped[int | None] = mapped_column(Integer)
    hangup_cause_text: Mapped[str | None] = mapped_column(String(255))
    #: The SIP final response that ended an unanswered call ("403 Forbidden"), when known.
    sip_response: Mapped[str | None] = mapped_column(String(80))
    end_reason: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    originated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ring_seconds: Mapped[float | None] = mapped_column(Float)
    talk_seconds: Mapped[float | None] = mapped_column(Float)
    recording: Mapped[str | None] = mapped_column(String(512))
    bot_audio_seconds: Mapped[float | None] = mapped_column(Float)
    callee_audio_seconds: Mapped[float | None] = mapped_column(Float)
    callee_audio_rms: Mapped[float | None] = mapped_column(Float)
    #: Every turn of the conversation: [{"speaker", "text", "start", "end"}], times in media seconds.
    transcript: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    #: What the script made of the call: transferred, opted_out, callback, completed, ...
    outcome: Mapped[str | None] = mapped_column(String(32), index=True)
    grade: Mapped[str | None] = mapped_column(String(1), index=True)
    node_path: Mapped[list[str] | None] = mapped_column(JSON)
    intents: Mapped[list[str] | None] = mapped_column(JSON)
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    callback: Mapped[str | None] = mapped_column(String(128))  # when the callee asked to be called back
    #: When the retention policy removed its personal data (number, transcript, recording).
    redacted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CallEventRow(Base):
    __tablename__ = "call_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class CampaignRow(Base):
    __tablename__ = "campaigns"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    #: The campaign file as last loaded (voicebot.campaign.definition.Campaign).
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: created, running, paused, stopped, finished
    state: Mapped[str] = mapped_column(String(16), default="created")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LeadRow(Base):
    __tablename__ = "leads"
    __table_args__ = (
        UniqueConstraint("campaign_id", "phone"),
        Index("ix_leads_due", "campaign_id", "status", "next_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    phone: Mapped[str] = mapped_column(String(32), index=True)  # E.164
    name: Mapped[str] = mapped_column(String(255), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="")
    #: Columns of the lead file beyond the known ones, for the script and the agent's screen.
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    consent_source: Mapped[str | None] = mapped_column(String(255))
    consent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    consent_evidence: Mapped[str | None] = mapped_column(String(512))
    #: pending, dialing, done, dnc, exhausted, expired (voicebot.campaign.retry.LeadStatus)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    next_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_disposition: Mapped[str | None] = mapped_column(String(16))
    last_outcome: Mapped[str | None] = mapped_column(String(32))
    last_reason: Mapped[str | None] = mapped_column(String(128))
    grade: Mapped[str | None] = mapped_column(String(1))
    source: Mapped[str | None] = mapped_column(String(512))  # file:line it was imported from
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AttemptRow(Base):
    """One dial of a lead, written before the originate."""

    __tablename__ = "attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    campaign_id: Mapped[str] = mapped_column(String(64), index=True)
    phone: Mapped[str] = mapped_column(String(32), index=True)
    call_id: Mapped[str] = mapped_column(String(36), unique=True)
    worker: Mapped[str] = mapped_column(String(64))
    #: dialing, done, unknown
    state: Mapped[str] = mapped_column(String(16), default="dialing", index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    disposition: Mapped[str | None] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(String(32))


class DoNotCallRow(Base):
    __tablename__ = "do_not_call"
    __table_args__ = (UniqueConstraint("phone", "scope"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    phone: Mapped[str] = mapped_column(String(32), index=True)  # E.164
    #: "*" for the global list, else a campaign id
    scope: Mapped[str] = mapped_column(String(64), default="*")
    reason: Mapped[str] = mapped_column(String(255), default="")
    added_by: Mapped[str] = mapped_column(String(64), default="")
    call_id: Mapped[str | None] = mapped_column(String(36))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditRow(Base):
    """Every dial decision and every change to who may be called, for compliance."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(64), default="")
    #: dialed, skipped, result, dnc_add, dnc_remove, import, campaign_<state>, reconciled
    action: Mapped[str] = mapped_column(String(32), index=True)
    reason: Mapped[str] = mapped_column(String(128), default="")
    campaign_id: Mapped[str | None] = mapped_column(String(64), index=True)
    lead_id: Mapped[int | None] = mapped_column(Integer, index=True)
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    call_id: Mapped[str | None] = mapped_column(String(36))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class WorkerRow(Base):
    """A dialer worker's heartbeat: its in-flight attempts are its own while it beats."""

    __tablename__ = "workers"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: Conversations it holds at once within its latency target.
    capacity: Mapped[int | None] = mapped_column(Integer)
    #: Its calls up (ringing or talking) at the last beat.
    calls: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: What kept it from dialing due leads at the last beat (None: nothing).
    held: Mapped[str | None] = mapped_column(String(128))


class UserRow(Base):
    """A person who logs in to the console: an agent, supervisor, QA inspector, compliance, admin."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128), default="")
    #: agent, supervisor, qa, compliance, admin (voicebot.console.auth.Role)
    role: Mapped[str] = mapped_column(String(16))
    #: An argon2id hash (argon2-cffi); never the password.
    password_hash: Mapped[str] = mapped_column(String(255))
    #: en or zh: the console's language for this person.
    language: Mapped[str] = mapped_column(String(8), default="en")
    #: An agent's phone as the queue rings it ("PJSIP/agent101").
    interface: Mapped[str | None] = mapped_column(String(128), unique=True)
    #: The queues an agent takes calls from.
    queues: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: The line an agent says first: company, department, own name (the rulebooks ask for it).
    department: Mapped[str] = mapped_column(String(128), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ConsoleSessionRow(Base):
    """A login: the cookie holds the token, this row its SHA-256 (a stolen database opens no session)."""

    __tablename__ = "console_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    address: Mapped[str] = mapped_column(String(64), default="")


class AgentStateRow(Base):
    """An agent's status, as their screen set it and the queues carry it out."""

    __tablename__ = "agent_states"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    #: ready, paused, wrapup, offline
    state: Mapped[str] = mapped_column(String(16), default="offline")
    reason: Mapped[str] = mapped_column(String(64), default="")
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: The screen's last sign of life (its live-update stream).
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    call_id: Mapped[str | None] = mapped_column(String(36))


class HandoffRow(Base):
    """One offer of a call to an agent by a queue, and what came of it."""

    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(36), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    queue: Mapped[str] = mapped_column(String(64), default="")
    interface: Mapped[str] = mapped_column(String(128), default="")
    offered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: ringing, answered, no_answer, completed
    result: Mapped[str] = mapped_column(String(16), default="ringing")
    wait_seconds: Mapped[float | None] = mapped_column(Float)
    ring_seconds: Mapped[float | None] = mapped_column(Float)
    talk_seconds: Mapped[float | None] = mapped_column(Float)
    #: The agent's wrap-up: disposition, corrected grade, hand-off fields, notes.
    disposition: Mapped[str | None] = mapped_column(String(32))
    grade: Mapped[str | None] = mapped_column(String(1))
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    notes: Mapped[str] = mapped_column(Text, default="")
    callback_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Whose callback it is: the agent's own, or None for any agent of the campaign.
    callback_user_id: Mapped[int | None] = mapped_column(Integer)
    wrapped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class QaResultRow(Base):
    """A call scored by a rubric when it ended (the automatic inspection)."""

    __tablename__ = "qa_results"
    __table_args__ = (UniqueConstraint("call_id", "rubric"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(36), index=True)
    campaign_id: Mapped[str | None] = mapped_column(String(64), index=True)
    rubric: Mapped[str] = mapped_column(String(100))
    score: Mapped[float] = mapped_column(Float)
    total: Mapped[float] = mapped_column(Float)
    passed: Mapped[bool] = mapped_column(Boolean, index=True)
    #: The rules not met: [{"rule", "title", "points_lost", "fatal", "evidence"}]
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    scored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    #: robot (the conversation, scored when the call ends) or agent (the agent's part, at wrap-up)
    part: Mapped[str] = mapped_column(String(8), default="robot", server_default="robot")


class InspectionRow(Base):
    """A call in the inspectors' queue, and what became of it: scored, disputed, settled."""

    __tablename__ = "inspections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(36), unique=True)
    campaign_id: Mapped[str | None] = mapped_column(String(64), index=True)
    week: Mapped[str] = mapped_column(String(8), index=True)  # 2026-W49
    reason: Mapped[str] = mapped_column(String(16))  # flagged, signup, sample
    #: queued, scored, disputed, settled
    state: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    queued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    inspector: Mapped[str | None] = mapped_column(String(64))
    score: Mapped[float | None] = mapped_column(Float)
    passed: Mapped[bool | None] = mapped_column(Boolean)
    #: rule id -> points lost (the automatic ones pre-filled, the manual ones by the inspector)
    items: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    comment: Mapped[str] = mapped_column(Text, default="")
    scored_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    disputed_by: Mapped[str | None] = mapped_column(String(64))
    dispute: Mapped[str] = mapped_column(Text, default="")
    settled_by: Mapped[str | None] = mapped_column(String(64))
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class FollowUpRow(Base):
    """What a failed inspection asks of someone: the script writers (a script fix), the agent who
    took the call (coaching), or a callback to the callee; open until done, with the answer."""

    __tablename__ = "follow_ups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"), index=True)
    call_id: Mapped[str] = mapped_column(String(36), index=True)
    campaign_id: Mapped[str | None] = mapped_column(String(64))
    lead_id: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # script, agent, callback
    #: the agent it is for (None: the script writers, or any agent for a callback)
    assignee: Mapped[str | None] = mapped_column(String(64), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default="open", index=True)  # open, done
    opened_by: Mapped[str] = mapped_column(String(64))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    done_by: Mapped[str | None] = mapped_column(String(64))
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answer: Mapped[str] = mapped_column(Text, default="")


class ComplaintRow(Base):
    """A complaint against a call, a number or an agent, and its handling."""

    __tablename__ = "complaints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(32), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    call_id: Mapped[str | None] = mapped_column(String(36), index=True)
    campaign_id: Mapped[str | None] = mapped_column(String(64), index=True)
    agent: Mapped[str | None] = mapped_column(String(64), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    #: received, investigating, answered, closed
    state: Mapped[str] = mapped_column(String(16), default="received", index=True)
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    handler: Mapped[str | None] = mapped_column(String(64))
    answer: Mapped[str] = mapped_column(Text, default="")
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    #: Whether the number went on the do-not-call list (the default), or why not.
    blocked: Mapped[bool] = mapped_column(Boolean, default=True)
    keep_calling_reason: Mapped[str] = mapped_column(Text, default="")
