"""Automatic inspection time per call: the sample rubrics (robot and agent parts) on synthetic
calls of 4 to 40 turns; prints p50/p95/max, asserts nothing.

    .venv/bin/python bench/inspection.py [--calls 2000]

Each call is scored as the worker scores it when the call ends (``CallView.of`` on the stored
record, then ``inspect``), in one thread: the time a call's end costs the worker's loop.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

from figures import percentile

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from voicebot.qa.inspect import AgentView, CallView, inspect  # noqa: E402
from voicebot.qa.rubric import load_rubric  # noqa: E402
from voicebot.store import CallRecord  # noqa: E402

BOT = [
    ("opening", "Hello, this is an automated call from Acme Broadband. We have a fibre offer for your area."),
    ("offer", "Our full fibre plan is 500 megabits for 25 dollars a month for the first year."),
    ("objection_price", "It's 25 dollars a month for the first year, then 35, with free installation."),
    ("objection_not_interested", "I understand. Just so you know, it's half the price of most plans."),
]
CALLEE = [
    ("affirm", "yes go on"),
    ("ask_price", "how much is it after the first year"),
    ("not_interested", "no thanks I'm not interested"),
    (None, "sorry what was that"),
]


def record(turns: int, rng: random.Random) -> CallRecord:
    transcript, at = [], 0.0
    for i in range(turns):
        if i % 2 == 0:
            node, text = rng.choice(BOT)
            transcript.append({"speaker": "bot", "text": text, "start": at, "end": at + 5.0, "node": node})
            at += 5.8
        else:
            intent, text = rng.choice(CALLEE)
            transcript.append(
                {"speaker": "callee", "text": text, "start": at, "end": at + 1.5, "intent": intent}
            )
            at += 2.2
    return CallRecord(
        id=f"call-{rng.random()}",
        destination="+8613800138000",
        transcript=transcript,
        talk_seconds=at,
        end_reason="callee-hangup",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    rng = random.Random(3)
    for language in ("en", "zh"):
        rubric = load_rubric(ROOT / f"intents/broadband-{language}")
        assert rubric.agent is not None
        calls = [record(rng.randrange(4, 41), rng) for _ in range(args.calls)]
        robot, agent = [], []
        for r in calls:
            started = time.perf_counter()
            inspect(rubric, CallView.of(r, variables={"company": "Acme Broadband"}, bot_waited=True))
            robot.append((time.perf_counter() - started) * 1000)
            wait, talk, wrapped = rng.uniform(1, 40), rng.uniform(5, 300), rng.uniform(5, 300)
            leg = AgentView("alice", wait, talk, wrapped, "sale", "notes")
            started = time.perf_counter()
            inspect(rubric.agent, CallView((), r.talk_seconds or 0.0, "callee-hangup", agent=leg))
            agent.append((time.perf_counter() - started) * 1000)
        for part, ms in (("robot", robot), ("agent", agent)):
            print(
                f"{language} {part} part, {args.calls} calls of 4-40 turns: p50 {percentile(ms, 50):.2f} ms, "
                f"p95 {percentile(ms, 95):.2f} ms, max {max(ms):.2f} ms"
            )


if __name__ == "__main__":
    main()
