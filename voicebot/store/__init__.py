"""Persistence: SQLAlchemy 2.0 models and repositories (the only code that imports sqlalchemy)."""

from voicebot.store.repo import CallRecord, EventRecord, Store

__all__ = ["CallRecord", "EventRecord", "Store"]
