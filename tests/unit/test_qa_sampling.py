"""The inspectors' sampling policy (pure): every flagged call and sign-up, then a sample spread
over grades and outcomes up to the week's quota, the same calls each time."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from voicebot.qa.sampling import Candidate, SamplingPolicy, sample, stratified


def calls(grade: str, outcome: str, n: int, **kind) -> list[Candidate]:
    return [Candidate(f"{grade}{outcome}{i}", grade, outcome, **kind) for i in range(n)]


def test_flagged_calls_and_signups_all_come_first_then_a_stratified_sample():
    week = (
        calls("A", "transferred", 10)
        + calls("C", "completed", 60)
        + calls("E", "no_answer", 28)
        + calls("B", "transferred", 2, signup=True)
        + calls("D", "opted_out", 3, flagged=True)
    )
    chosen = sample(week, SamplingPolicy())
    reasons = Counter(reason for _, reason in chosen)
    assert reasons == {"flagged": 3, "signup": 2, "sample": 20}  # 25 in all: the week's quota
    sampled = Counter(call_id[0] for call_id, reason in chosen if reason == "sample")
    assert sampled == {"C": 12, "E": 6, "A": 2}  # in proportion to 60 : 28 : 10
    assert sample(week, SamplingPolicy()) == chosen  # the same calls every time
    # what is already queued counts toward the quota and is not queued twice
    again = sample(week, SamplingPolicy(), queued=[c for c, _ in chosen])
    assert again == []


def test_a_quiet_week_queues_every_call_and_the_monthly_minimum_holds():
    few = calls("C", "completed", 7) + calls("A", "transferred", 1)
    assert sorted(c for c, _ in sample(few, SamplingPolicy())) == sorted(c.call_id for c in few)
    assert SamplingPolicy(per_week=10, per_month=100).weekly_quota == 25  # 4 weeks x 25 >= 100
    # every kind of call at least once while the quota allows, the largest first
    rare = calls("C", "completed", 50) + calls("F", "machine", 1) + calls("A", "transferred", 1)
    assert {c[0] for c in stratified(rare, 3)} == {"C", "F", "A"}


@given(
    st.lists(
        st.tuples(st.sampled_from("ABCDEF"), st.sampled_from(["completed", "transferred", "x"])), max_size=80
    ),
    st.integers(min_value=0, max_value=40),
)
def test_the_sample_is_as_large_as_asked_and_never_repeats(kinds, n):
    pool = [Candidate(f"c{i}", g, o) for i, (g, o) in enumerate(kinds)]
    picked = stratified(pool, n)
    assert len(picked) == min(n, len(pool)) and len(set(picked)) == len(picked)
