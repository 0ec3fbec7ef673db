"""Report rows as records (for CSV and XLSX) and as text for the terminal. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from voicebot.reports.tables import GRADES, AgentRow, FunnelStep, Row, Scorecard


def pct(value: float | None) -> str:
    return f"{value:.1%}" if value is not None else "-"


def num(value: float | None, fmt: str = ".1f") -> str:
    return format(value, fmt) if value is not None else "-"


def campaign_records(rows: Sequence[Row]) -> list[dict[str, Any]]:
    """One flat record per campaign and period (the columns of the CSV and XLSX files)."""
    out = []
    for r in rows:
        record: dict[str, Any] = {
            "period": r.period,
            "campaign": r.campaign_id,
            "attempts": r.attempts,
            "answered": r.answered,
            "connect_rate": r.connect_rate,
            "inbound": r.inbound,
            "talk_average_s": r.talk_average,
            **{f"talk_{name}": n for name, n in r.talk_buckets().items()},
            **{f"grade_{g}": r.grades.get(g, 0) for g in GRADES},
            "transfers": r.transfers,
            "transfer_rate": r.transfer_rate,
            "abandoned": r.abandoned,
            "abandon_rate": r.abandon_rate,
            "agent_calls": r.agent_calls,
            "sales": r.sales,
            "agent_conversion": r.conversion,
            "opted_out": r.opted_out,
            "opt_out_rate": r.opt_out_rate,
            "complaints": r.complaints,
            "complaint_rate": r.complaint_rate,
            "inspected": r.inspected,
            "qa_pass_rate": r.qa_pass_rate,
            "qa_average": r.qa_average,
        }
        out.append(record)
    return out


def campaign_text(rows: Sequence[Row]) -> list[str]:
    header = (
        f"{'period':10} {'campaign':16} {'calls':>6} {'conn':>6} {'talk':>6} "
        f"{'grades A-F':>22} {'xfer':>6} {'aband':>6} {'conv':>6} {'optout':>6} {'compl':>6} "
        f"{'QA pass':>7} {'QA avg':>6}"
    )
    lines = [header]
    for r in rows:
        grades = "/".join(str(r.grades.get(g, 0)) for g in GRADES)
        lines.append(
            f"{r.period:10} {r.campaign_id[:16]:16} {r.attempts:>6} {pct(r.connect_rate):>6} "
            f"{num(r.talk_average, '.0f'):>6} {grades:>22} {pct(r.transfer_rate):>6} "
            f"{pct(r.abandon_rate):>6} {pct(r.conversion):>6} {pct(r.opt_out_rate):>6} "
            f"{pct(r.complaint_rate):>6} {pct(r.qa_pass_rate):>7} {num(r.qa_average):>6}"
        )
    return lines


def funnel_text(steps: Sequence[FunnelStep]) -> list[str]:
    if not steps:
        return ["no answered call reached the script"]
    top = steps[0].reached or 1
    lines = [f"{'node':28} {'reached':>8} {'share':>6} {'ended here':>10} {'callee hung up':>14}"]
    for s in steps:
        lines.append(
            f"{s.node[:28]:28} {s.reached:>8} {s.reached / top:>6.0%} {s.left:>10} {s.ended_by_callee:>14}"
        )
    return lines


def agent_records(rows: Sequence[AgentRow]) -> list[dict[str, Any]]:
    return [
        {
            "period": r.period,
            "agent": r.agent,
            "offered": r.offered,
            "answered": r.answered,
            "talk_s": round(r.talk, 1),
            **{f"disposition_{k}": v for k, v in sorted(r.dispositions.items())},
            "conversion": r.conversion,
        }
        for r in rows
    ]


def agent_text(rows: Sequence[AgentRow]) -> list[str]:
    lines = [f"{'period':10} {'agent':16} {'offered':>7} {'taken':>6} {'talk':>7} {'conv':>6}  dispositions"]
    for r in rows:
        said = ", ".join(f"{k} {v}" for k, v in r.dispositions.most_common())
        lines.append(
            f"{r.period:10} {r.agent[:16]:16} {r.offered:>7} {r.answered:>6} {r.talk:>7.0f} "
            f"{pct(r.conversion):>6}  {said}"
        )
    return lines


def scorecard_text(cards: Sequence[Scorecard]) -> list[str]:
    lines = [f"{'agent':16} {'volume':>7} {'results':>8} {'quality':>8} {'feedback':>9} {'score':>6}"]
    for c in cards:
        parts = f"{c.volume:>7.0f} {c.results:>8.0f} {c.quality:>8.0f} {c.feedback:>9.0f}"
        lines.append(f"{c.agent[:16]:16} {parts} {c.total:>6.1f}")
    return lines
