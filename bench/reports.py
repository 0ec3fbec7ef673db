"""Report generation on a large call history: a month's campaign summary (the facts read from
the database and the report built) over N call records; prints figures, asserts nothing.

    .venv/bin/python bench/reports.py [--calls 1000000] [--db sqlite|URL] [--keep]

Seeds ``--calls`` records spread over 10 campaigns and 10 months (so a campaign's month holds a
hundredth of them), each answered one with a script path, a grade, a short transcript and an
automatic inspection score, one in ten answered ones transferred (its transfer and whisper
events). Then times, three times each: one campaign's month (the target: under 2 s), all
campaigns' month, and one campaign's day. ``--db`` is ``sqlite`` (a scratch file) or a
PostgreSQL URL (its tables are created by the migrations and dropped unless ``--keep``).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from voicebot.reports.report import build  # noqa: E402
from voicebot.store import Store  # noqa: E402
from voicebot.store.models import Call, CallEventRow, QaResultRow  # noqa: E402

ZONE = ZoneInfo("Asia/Shanghai")
CAMPAIGNS = [f"campaign-{i}" for i in range(10)]
FIRST = datetime(2026, 1, 1, tzinfo=ZONE)
SPAN = (datetime(2026, 11, 1, tzinfo=ZONE) - FIRST).total_seconds()
PATHS = [
    ["opening", "offer", "transfer"],
    ["opening", "opt_out"],
    ["opening", "offer", "objection_price", "goodbye"],
    ["opening", "goodbye_no_input"],
    ["opening", "objection_not_interested", "goodbye"],
]
BATCH = 10_000


def seed(store: Store, calls: int) -> None:
    rng = random.Random(7)
    engine = store._engine  # the bench writes rows in bulk, past the repository
    made = 0
    started = time.perf_counter()
    while made < calls:
        rows, events, scores = [], [], []
        for _ in range(min(BATCH, calls - made)):
            call_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            at = FIRST + timedelta(seconds=rng.random() * SPAN)
            answered = rng.random() < 0.6
            path = rng.choice(PATHS) if answered else []
            row = {
                "id": call_id,
                "direction": "outbound",
                "destination": f"+86138{rng.randrange(10**8):08d}",
                "campaign_id": rng.choice(CAMPAIGNS),
                "state": "completed",
                "disposition": "answered" if answered else rng.choice(["busy", "no_answer", "failed"]),
                "created_at": at,
                "completed_at": at + timedelta(minutes=2),
                "talk_seconds": rng.uniform(5, 240) if answered else None,
                "grade": rng.choice("ABCDEF") if answered else None,
                "outcome": path[-1] if path else None,
                "opted_out": path[-1:] == ["opt_out"],
                "node_path": path,
                "end_reason": rng.choice(["callee-hangup", "bot-hangup"]) if answered else None,
                "transcript": [
                    {"speaker": "bot", "text": "Hello, this is an automated call from Acme.", "start": 0.0},
                    {"speaker": "callee", "text": "Yes, tell me more.", "start": 6.1},
                ]
                if answered
                else None,
            }
            rows.append(row)
            if answered:
                scores.append(
                    {
                        "call_id": call_id,
                        "campaign_id": row["campaign_id"],
                        "rubric": "robot calls",
                        "score": rng.choice([10.0, 9.0, 8.0]),
                        "total": 10.0,
                        "passed": rng.random() < 0.8,
                        "findings": [],
                        "scored_at": at + timedelta(minutes=2),
                    }
                )
                if path[-1] == "transfer":
                    events.append({"call_id": call_id, "at": at, "kind": "transfer", "data": {"queue": "q"}})
                    events.append(
                        {"call_id": call_id, "at": at, "kind": "whisper",
                         "data": {"decision": "accept", "waited": rng.uniform(0.5, 4.0)}}
                    )  # fmt: skip
        with engine.begin() as conn:
            conn.execute(insert(Call), rows)
            if events:
                conn.execute(insert(CallEventRow), events)
            if scores:
                conn.execute(insert(QaResultRow), scores)
        made += len(rows)
        print(f"\rseeded {made} calls ({time.perf_counter() - started:.0f} s)", end="", flush=True)
    print()


def timed(store: Store, first: date, last: date, campaign: str | None) -> tuple[float, int]:
    started = time.perf_counter()
    start = datetime.combine(first, datetime.min.time(), ZONE)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), ZONE)
    facts = store.reports.facts(start, end, campaign)
    report = build(facts, first=first, last=last, zone=str(ZONE), by="day", campaign_id=campaign)
    return time.perf_counter() - started, report.calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--db", default="sqlite")
    parser.add_argument("--keep", action="store_true", help="keep the seeded tables (PostgreSQL)")
    args = parser.parse_args()
    scratch = tempfile.TemporaryDirectory()
    url = f"sqlite:///{scratch.name}/bench.sqlite" if args.db == "sqlite" else args.db
    store = Store(url)
    store.migrate()
    try:
        seed(store, args.calls)
        print(f"{args.calls} call records on {url.split(':')[0]}")
        cases = [
            ("one campaign, a month", date(2026, 6, 1), date(2026, 6, 30), CAMPAIGNS[3]),
            ("all campaigns, a month", date(2026, 6, 1), date(2026, 6, 30), None),
            ("one campaign, a day", date(2026, 6, 15), date(2026, 6, 15), CAMPAIGNS[3]),
        ]
        for name, first, last, campaign in cases:
            runs = [timed(store, first, last, campaign) for _ in range(3)]
            seconds = [s for s, _ in runs]
            print(
                f"{name:24} {runs[0][1]:>7} calls: median {statistics.median(seconds):.2f} s, "
                f"max {max(seconds):.2f} s"
            )
    finally:
        if args.db != "sqlite" and not args.keep:
            from voicebot.store.models import Base

            Base.metadata.drop_all(store._engine)
            with store._engine.begin() as conn:
                conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        store.close()
        scratch.cleanup()


if __name__ == "__main__":
    main()
