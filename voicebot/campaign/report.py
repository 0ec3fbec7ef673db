"""A campaign's progress as an operator reads it. Pure."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

STATUS_ORDER = ("pending", "dialing", "done", "dnc", "exhausted", "expired", "no_consent")


class _Campaign(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def state(self) -> str: ...


class _Worker(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def seen_at(self) -> datetime: ...
    @property
    def capacity(self) -> int | None: ...
    @property
    def calls(self) -> int: ...
    @property
    def held(self) -> str | None: ...


def workers_summary(workers: Sequence[_Worker], now: datetime, *, alive: timedelta) -> str:
    """The dialer workers seen within ``alive``: calls up against capacity, and what holds them back."""
    lines = []
    for w in workers:
        if now - w.seen_at > alive:
            continue
        capacity = f"capacity {w.capacity}" if w.capacity is not None else "capacity not set"
        held = f"; held: {w.held}" if w.held else ""
        lines.append(f"  {w.name}: {w.calls} calls up, {capacity}{held}")
    return "\n".join(["workers", *lines] if lines else ["workers: none running"])


def summarize(
    info: _Campaign,
    leads_by_status: Mapping[str, int],
    attempts: Sequence[Mapping[str, Any]],
    next_due: datetime | None,
) -> str:
    total = sum(v for k, v in leads_by_status.items() if k != "due")
    lines = [f"campaign {info.id} ({info.state}) {info.name}".rstrip()]
    statuses = [f"{k} {leads_by_status[k]}" for k in STATUS_ORDER if leads_by_status.get(k)]
    lines.append(f"  leads     {total}: " + (", ".join(statuses) or "none"))
    if leads_by_status.get("pending"):
        due = leads_by_status.get("due", 0)
        upcoming = next_due.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if next_due else "-"
        lines.append(f"  due now   {due}; next pending attempt {upcoming}")
    ended = [a for a in attempts if a.get("disposition")]
    dispositions = Counter(a["disposition"] for a in ended)
    outcomes = Counter(a["outcome"] for a in ended if a.get("outcome"))
    lines.append(
        f"  attempts  {len(attempts)}: "
        + (", ".join(f"{k} {v}" for k, v in dispositions.most_common()) or "none")
        + (f" ({len(attempts) - len(ended)} in flight)" if len(attempts) > len(ended) else "")
    )
    up = Counter(a.get("worker") or "?" for a in attempts if not a.get("disposition"))
    if up:
        lines.append("  dialing   " + ", ".join(f"{w} {n}" for w, n in sorted(up.items())))
    if outcomes:
        lines.append("  outcomes  " + ", ".join(f"{k} {v}" for k, v in outcomes.most_common()))
    answered = dispositions.get("answered", 0)
    if ended:
        lines.append(f"  connect   {answered / len(ended):.0%} of ended attempts answered")
    if answered:
        lines.append(f"  transfer  {outcomes.get('transferred', 0) / answered:.0%} of answered calls")
    talks = sorted(
        a["talk_seconds"] for a in ended if a["disposition"] == "answered" and a.get("talk_seconds")
    )
    if talks:
        lines.append(
            f"  talk      {sum(talks) / len(talks):.1f} s average, {talks[len(talks) // 2]:.1f} s median, "
            f"{talks[-1]:.1f} s longest"
        )
    grades = Counter(a["grade"] for a in ended if a.get("grade"))
    if grades:
        lines.append("  grades    " + ", ".join(f"{g} {grades[g]}" for g in sorted(grades)))
    return "\n".join(lines)
