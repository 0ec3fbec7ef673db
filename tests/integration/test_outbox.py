"""The outbox on a real PostgreSQL reached through a proxy the test can cut: writes go straight
in while the database answers, wait durably on disk while it does not (across a restart of the
worker), and are replayed in order when it is back; a write the database refuses for itself is
kept aside, never lost. The whole-system drill is test_outage.py."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import pytest

from voicebot.store import CallRecord, Store
from voicebot.store.outbox import Outbox

from .conftest import TcpProxy

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
async def proxied(postgres_url):
    """(store reached through the proxy, the proxy)."""
    parts = urlsplit(postgres_url)
    proxy = TcpProxy(parts.port or 5432)
    await proxy.start()
    netloc = parts.netloc.rsplit(":", 1)[0] + f":{proxy.port}"
    store = Store(urlunsplit(parts._replace(netloc=netloc)))
    await asyncio.to_thread(store.migrate)
    yield store, proxy
    await asyncio.to_thread(store.close)
    await proxy.close()


async def test_writes_wait_on_disk_through_an_outage_and_a_restart_then_replay_in_order(proxied, tmp_path):
    store, proxy = proxied
    box = Outbox(store, tmp_path / "outbox", retry_every=0.2)
    await box.start()
    await box.write("create_call", record=CallRecord(id="a", destination="+8613800138000", created_at=T0))
    assert (await store.get_call("a")) is not None and box.available  # straight in

    proxy.refusing = True
    proxy.cut()  # the database is away
    await box.write("update_call", call_id="a", fields={"state": "up", "answered_at": T0})
    box.submit("add_event", call_id="a", kind="heard", data={"text": "你好"}, at=T0)
    await box.write("create_call", record=CallRecord(id="b", destination="+8613800138001", created_at=T0))
    await box.write("update_call", call_id="b", fields={"disposition": "busy"})
    await box.write("update_call", call_id="nope", fields={"state": "up"})  # refused when replayed
    assert not box.available and box.deferred == 5
    lines = (tmp_path / "outbox" / "outbox.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["write"] for x in lines] == [
        "update_call",
        "add_event",
        "create_call",
        "update_call",
        "update_call",
    ]
    await box.close()  # the worker stops while the database is away: the file stays

    again = Outbox(store, tmp_path / "outbox", retry_every=0.2)
    await again.start()
    assert not again.available
    proxy.refusing = False  # the database is back
    await asyncio.wait_for(again.wait_available(), 10)
    a, b = await store.get_call("a"), await store.get_call("b")
    assert a.state == "up" and a.answered_at == T0 and b.disposition == "busy"
    assert [(e.kind, e.data) for e in await store.events("a")] == [("heard", {"text": "你好"})]
    assert not (tmp_path / "outbox" / "outbox.jsonl").exists()
    (rejected,) = (tmp_path / "outbox" / "outbox.rejected.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(rejected)["write"]["args"]["call_id"] == "nope" and "no call nope" in rejected
    await again.write("update_call", call_id="a", fields={"state": "hungup"})  # straight in again
    assert (await store.get_call("a")).state == "hungup"
    await again.close()


async def test_a_replay_cut_short_by_a_crash_repeats_nothing_harmful(proxied, tmp_path):
    store, proxy = proxied
    box = Outbox(store, tmp_path / "outbox", retry_every=0.2)
    await box.start()
    proxy.refusing = True
    proxy.cut()
    await box.write("create_call", record=CallRecord(id="c", destination="+8613800138002", created_at=T0))
    await box.write("update_call", call_id="c", fields={"disposition": "answered"})
    await box.close()
    saved = (tmp_path / "outbox" / "outbox.jsonl").read_text(encoding="utf-8")
    proxy.refusing = False
    replay = Outbox(store, tmp_path / "outbox", retry_every=0.2)
    await replay.start()
    await asyncio.wait_for(replay.wait_available(), 10)
    await replay.close()
    # as if the worker died after applying the writes but before noting it: the same file again
    (tmp_path / "outbox" / "outbox.jsonl").write_text(saved, encoding="utf-8")
    twice = Outbox(store, tmp_path / "outbox", retry_every=0.2)
    await twice.start()
    await asyncio.wait_for(twice.wait_available(), 10)
    await twice.close()
    assert (await store.get_call("c")).disposition == "answered"
    assert not (tmp_path / "outbox" / "outbox.rejected.jsonl").exists()  # the repeat was harmless
