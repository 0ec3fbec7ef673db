"""Pacing with humans in the loop (voicebot.campaign.agent_pacing): the bound always holds, and
in a simulated campaign with too few agents the abandoned-transfer rate settles under its
ceiling (bench/handoff_sim.py prints the same runs)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bench.handoff_sim import simulate
from voicebot.campaign.agent_pacing import AgentPacing, QueueView, TransferHistory

views = st.builds(QueueView, st.integers(0, 60), st.integers(0, 30), st.integers(0, 60))
histories = st.builds(
    TransferHistory,
    st.integers(0, 5000),
    st.integers(0, 5000),
    st.integers(0, 500),
    st.integers(0, 5000),
    st.one_of(st.none(), st.floats(0, 1)),
).filter(lambda h: h.transfers <= h.conversations)


@given(views, histories, st.floats(0.1, 1.0), st.integers(0, 20))
def test_expected_transfers_never_exceed_free_agents(view, history, level, floor):
    pacing = AgentPacing(level=level, floor=floor)
    allowed = pacing.concurrency(view, history)
    free = max(0, view.available - view.waiting)
    assert allowed * pacing.rate(history) <= free + 1e-9
    assert allowed == 0 or free > 0
    assert pacing.room(view, history, allowed) == 0


def test_a_free_agent_always_gets_a_first_call():
    pacing = AgentPacing(level=0.1)
    assert pacing.concurrency(QueueView(available=1, waiting=0), TransferHistory(0, 0)) == 1
    assert pacing.concurrency(QueueView(available=1, waiting=1), TransferHistory(0, 0)) == 0
    assert pacing.concurrency(QueueView(available=0, waiting=0), TransferHistory(0, 0)) == 0


def test_abandoned_transfers_slow_the_robot_and_taken_ones_bring_it_back():
    pacing = AgentPacing(level=1.0)
    view = QueueView(available=4, waiting=0)
    pacing.update(TransferHistory(100, 25, abandoned=0, taken=25))
    before = pacing.concurrency(view, TransferHistory(100, 25))
    pacing.update(TransferHistory(104, 27, abandoned=2, taken=25))
    after = pacing.concurrency(view, TransferHistory(104, 27))
    assert pacing.level == 0.7**2 and after < before
    for taken in range(26, 400):
        pacing.update(TransferHistory(104 + taken, 27, abandoned=2, taken=taken))
    assert pacing.level == 1.0  # capped
    pacing.update(TransferHistory(600, 150, abandoned=2, taken=400, abandoned_today=0.031))
    assert pacing.level == 0.5  # today's rate at the ceiling: half at most


def test_the_abandoned_rate_settles_under_the_ceiling_with_too_few_agents():
    for seed in range(4):
        fixed = simulate(agents=3, hours=6, seed=seed, paced=False)
        paced = simulate(agents=3, hours=6, seed=seed, paced=True)
        assert fixed.rate > 0.5  # ten calls at once bury three agents
        assert paced.rate < 0.03, (seed, paced.rate, paced.rates_by_hour)
        assert max(paced.rates_by_hour[2:]) < 0.05, paced.rates_by_hour  # after the first hours
        assert paced.transfers > 120  # and the agents still get calls (not a robot stood still)
