"""Agents' scorecards with the outbound rulebook's weights (pure)."""

from __future__ import annotations

from collections import Counter

import pytest

from voicebot.reports.tables import AgentRow, scorecards


def row(agent: str, answered: int, **dispositions: int) -> AgentRow:
    return AgentRow(
        "2026-W49", agent, offered=answered, answered=answered, dispositions=Counter(dispositions)
    )


def test_volume_results_quality_and_feedback_weigh_30_30_20_20():
    agents = [row("alice", 1, sale=1), row("bob", 2, not_interested=2), row("bob", 0)]
    alice, bob = scorecards(agents, {"alice": [8.0]}, {"bob": 1})
    assert (alice.agent, alice.volume, alice.results, alice.quality, alice.feedback) == (
        "alice",
        50,
        100,
        80,
        100,
    )
    assert alice.total == pytest.approx(0.3 * 50 + 0.3 * 100 + 0.2 * 80 + 0.2 * 100)  # 81
    assert (bob.volume, bob.results, bob.quality, bob.feedback, bob.total) == (100, 0, 100, 80, 66)
    # weights are configurable; five complaints leave no feedback points
    (only,) = scorecards(
        [row("carol", 3)], {}, {"carol": 5}, {"volume": 1, "results": 0, "quality": 0, "feedback": 0}
    )
    assert (only.feedback, only.total) == (0, 100)
    assert scorecards([], {}, {}) == []
