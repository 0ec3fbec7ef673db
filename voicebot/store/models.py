"""Tables: one row per call, and its timeline of events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, MetaData, String, Text, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Call(Base):
    __tablename__ = "calls"

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


class CallEventRow(Base):
    __tablename__ = "call_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
