"""The campaign status an operator reads."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from voicebot.campaign.report import summarize, workers_summary


@dataclass
class Info:
    id: str = "c1"
    name: str = "November"
    state: str = "running"


def attempt(disposition, outcome=None, talk=None, grade=None):
    return {"disposition": disposition, "outcome": outcome, "talk_seconds": talk, "grade": grade}


def test_summary():
    attempts = [
        attempt("answered", "transferred", 40.0, "A"),
        attempt("answered", "opted_out", 10.0, "C"),
        attempt("answered", "completed", 20.0, "B"),
        attempt("busy", grade="E"),
        {"disposition": None, "outcome": None, "worker": "w2"},  # in flight
    ]
    text = summarize(
        Info(), {"pending": 2, "done": 3, "dnc": 1, "due": 1}, attempts, datetime(2026, 11, 23, 2, tzinfo=UTC)
    )
    assert text.splitlines() == [
        "campaign c1 (running) November",
        "  leads     6: pending 2, done 3, dnc 1",
        "  due now   1; next pending attempt 2026-11-23 02:00 UTC",
        "  attempts  5: answered 3, busy 1 (1 in flight)",
        "  dialing   w2 1",
        "  outcomes  transferred 1, opted_out 1, completed 1",
        "  connect   75% of ended attempts answered",
        "  transfer  33% of answered calls",
        "  talk      23.3 s average, 20.0 s median, 40.0 s longest",
        "  grades    A 1, B 1, C 1, E 1",
    ]


def test_an_empty_campaign():
    assert summarize(Info(state="created"), {}, [], None).splitlines() == [
        "campaign c1 (created) November",
        "  leads     0: none",
        "  attempts  0: none",
    ]


@dataclass
class Worker:
    name: str
    seen_at: datetime
    capacity: int | None
    calls: int
    held: str | None


def test_workers_against_their_capacity_and_what_holds_them():
    now = datetime(2026, 12, 2, 9, tzinfo=UTC)
    workers = [
        Worker("a", now, 8, 8, "at capacity: 8 conversations"),
        Worker("b", now - timedelta(seconds=30), 8, 3, None),
        Worker("gone", now - timedelta(minutes=10), 8, 5, None),
    ]
    assert workers_summary(workers, now, alive=timedelta(minutes=2)).splitlines() == [
        "workers",
        "  a: 8 calls up, capacity 8; held: at capacity: 8 conversations",
        "  b: 3 calls up, capacity 8",
    ]
    assert workers_summary(workers[2:], now, alive=timedelta(minutes=2)) == "workers: none running"
