"""The call store on real SQLite and real PostgreSQL, with Alembic migrations."""

from datetime import UTC, datetime, timedelta

import pytest

from voicebot.errors import StoreError
from voicebot.store import CallRecord, Store


@pytest.fixture
def store(db_url):
    s = Store(db_url)
    s.migrate()
    yield s
    s.close()


async def test_call_record_life(store):
    created = await store.create_call(CallRecord(id="c1", destination="+8613800138000", lead_id="L7"))
    assert created.state == "pending" and created.created_at is not None
    assert created.created_at.tzinfo is not None
    answered = datetime.now(UTC)
    await store.update_call("c1", state="answered", answered_at=answered)
    await store.add_event("c1", "originated", {"channel": "PJSIP/x", "ts": 1.5})
    await store.add_event("c1", "prompt", {"name": "greeting", "result": "completed"})
    done = await store.update_call(
        "c1",
        state="hungup",
        disposition="answered",
        talk_seconds=12.5,
        completed_at=answered + timedelta(seconds=13),
    )
    assert done.completed and done.disposition == "answered" and done.lead_id == "L7"
    assert abs((done.answered_at - answered).total_seconds()) < 1e-3
    events = await store.events("c1")
    assert [e.kind for e in events] == ["originated", "prompt"]
    assert events[0].data == {"channel": "PJSIP/x", "ts": 1.5}
    again = await store.get_call("c1")
    assert again == done


async def test_recent_calls_newest_first(store):
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(5):
        await store.create_call(
            CallRecord(id=f"c{i}", destination=str(i), created_at=t0 + timedelta(minutes=i))
        )
    assert [c.id for c in await store.recent_calls(3)] == ["c4", "c3", "c2"]
    assert {c.id for c in store.incomplete_calls_sync()} == {f"c{i}" for i in range(5)}


async def test_unknown_call_and_fields_are_store_errors(store):
    with pytest.raises(StoreError, match="no call nope"):
        await store.update_call("nope", state="x")
    await store.create_call(CallRecord(id="c1", destination="1"))
    with pytest.raises(StoreError, match="unknown call fields"):
        await store.update_call("c1", colour="red")


def test_migrate_is_idempotent_and_schema_check(db_url):
    store = Store(db_url)
    try:
        with pytest.raises(StoreError, match="voicebot db upgrade"):
            store.check_schema()
        store.migrate()
        store.migrate()
        store.check_schema()
        current, head = store.revision()
        assert current == head == "0011"
    finally:
        store.close()


def test_unusable_url_is_a_clear_error():
    with pytest.raises(StoreError, match="cannot use database URL"):
        Store("nosuchdb://x")


def test_password_is_redacted_in_errors():
    store = Store("postgresql+psycopg://u:topsecret@127.0.0.1:1/db")
    try:
        with pytest.raises(StoreError) as err:
            store.check_schema()
        assert "topsecret" not in str(err.value)
    finally:
        store.close()


def test_the_migrations_build_exactly_the_models(store):
    """Alembic's autogenerate finds nothing to add: every table, column and index of the models
    (the console's users, logins, agent states and hand-offs among them) is in a migration."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from voicebot.store.models import Base

    with store._engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
