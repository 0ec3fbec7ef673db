"""Calls outside any campaign (``voicebot call NUMBER``) under the same dial rules and audit, on
SQLite and PostgreSQL with an injected clock (the CLI through the real Asterisk: test_doctor_cli.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from voicebot.campaign.definition import Campaign
from voicebot.campaign.leads import ImportedLead
from voicebot.campaign.rules import Skip
from voicebot.store import CallRecord, Store

SH = ZoneInfo("Asia/Shanghai")
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=SH)
NUMBER = "+8613800002001"
POLICY = Campaign(id="ad-hoc").policy()  # what App.call applies


@pytest.fixture
def store(db_url):
    s = Store(db_url)
    s.migrate()
    yield s
    s.close()


def consent(store: Store, phone: str = NUMBER) -> None:
    repo = store.campaigns
    repo.save_campaign("c1", "test", Campaign(id="c1").to_json(), "t")
    lead = ImportedLead(line=2, phone=phone, name="x", timezone="Asia/Shanghai", consent_source="web form")
    repo.import_leads("c1", [lead], "leads.csv", "t")
    repo.set_state("c1", "running", "t")


def dial(store: Store, now: datetime, call_id: str = "c-1", override: str | None = None):
    return store.campaigns.dial_adhoc(
        NUMBER, "Asia/Shanghai", POLICY, call_id=call_id, actor="alice", override=override, now=now
    )


def test_a_number_with_consent_inside_the_hours_is_dialed_and_audited(store):
    consent(store)
    go, decision = dial(store, MONDAY_10)
    assert go and decision.allowed
    (row,) = store.campaigns.audit(phone=NUMBER, action="dialed")
    assert (row.actor, row.reason, row.call_id, row.campaign_id) == ("alice", "ad-hoc call", "c-1", None)


def test_refusals_say_why_and_when(store):
    go, decision = dial(store, MONDAY_10)  # nobody gave consent for this number
    assert not go and decision.reason is Skip.NO_CONSENT
    consent(store)
    evening = MONDAY_10.replace(hour=19)
    go, decision = dial(store, evening)
    assert not go and decision.reason is Skip.OUTSIDE_WINDOW
    assert decision.retry_at == MONDAY_10.replace(day=24, hour=9).astimezone(UTC)
    skipped = store.campaigns.audit(phone=NUMBER, action="skipped")
    assert [r.reason for r in skipped] == ["no consent", "outside calling window"]
    assert skipped[1].detail["retry_at"] == decision.retry_at.isoformat()


def test_an_override_needs_a_reason_is_audited_and_never_passes_do_not_call(store):
    consent(store)
    go, decision = dial(store, MONDAY_10.replace(hour=21), override="customer asked for this call")
    assert go and decision.reason is Skip.OUTSIDE_WINDOW
    (row,) = store.campaigns.audit(phone=NUMBER, action="dialed")
    assert row.reason == "override: customer asked for this call"
    assert row.detail == {"overridden": "outside calling window"}
    store.campaigns.dnc_add([NUMBER], reason="opted out", actor="t")
    go, decision = dial(store, MONDAY_10, call_id="c-2", override="please")
    assert not go and decision.reason is Skip.DO_NOT_CALL


def test_ad_hoc_calls_count_toward_the_caps_and_dialer_attempts_are_not_counted_twice(db_url):
    at = [MONDAY_10]
    store = Store(db_url, clock=lambda: at[0].astimezone(UTC))  # a store's clock is in UTC
    store.migrate()
    try:
        consent(store)
        for n, hours in enumerate((0, 2)):  # the default caps: 2 a day, an hour apart
            at[0] = MONDAY_10 + timedelta(hours=hours)
            go, _ = dial(store, at[0], call_id=f"adhoc-{n}")
            assert go
            store.create_call_sync(CallRecord(id=f"adhoc-{n}", destination=NUMBER))
        later = (MONDAY_10 + timedelta(hours=4)).astimezone(UTC)
        go, decision = dial(store, later, call_id="adhoc-3")
        assert not go and decision.reason is Skip.CAP_REACHED
        # the campaign's claim counts the same two calls: its lead is turned away today
        claims, skipped = store.campaigns.claim("c1", POLICY, "Asia/Shanghai", "w1", 5, later)
        assert claims == [] and skipped == 1
        # the next day the dialer's own call (attempt + call record) counts once, not twice
        at[0] = next_day = (MONDAY_10 + timedelta(days=1)).astimezone(UTC)
        (claim,), _ = store.campaigns.claim("c1", POLICY, "Asia/Shanghai", "w1", 5, next_day)
        store.create_call_sync(CallRecord(id=claim.call_id, destination=NUMBER, campaign_id="c1"))
        go, decision = dial(store, next_day + timedelta(hours=1), call_id="adhoc-4")
        assert go, decision  # 1 call today: the cap of 2 allows one more
    finally:
        store.close()
