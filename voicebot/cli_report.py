"""``voicebot report``: campaigns by day, week or month, the script funnel, the agents."""

from __future__ import annotations

import csv
import dataclasses
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from voicebot.cli_support import open_store
from voicebot.config import Settings

if TYPE_CHECKING:
    from voicebot.reports.tables import Period


def _day(text: str | None, zone: ZoneInfo, default: date) -> datetime:
    try:
        day = date.fromisoformat(text) if text else default
    except ValueError:
        click.echo(f"error: {text!r} is not a date (write it like 2026-12-01)", err=True)
        sys.exit(2)
    return datetime.combine(day, datetime.min.time(), zone)


@click.command()
@click.option("--campaign", "campaign_id", default=None, help="one campaign (default: all)")
@click.option("--by", "by", type=click.Choice(["day", "week", "month"]), default="day")
@click.option("--since", default=None, metavar="DATE", help="first day (default: 30 days ago)")
@click.option("--until", default=None, metavar="DATE", help="last day, included (default: today)")
@click.option("--timezone", "zone_name", default="Asia/Shanghai", help="the zone days start in")
@click.option(
    "--funnel", is_flag=True, help="also the script funnel: calls reaching each node, where they ended"
)
@click.option("--agents", is_flag=True, help="also the agents: calls offered, taken, talk, dispositions")
@click.option(
    "--csv", "csv_path", type=click.Path(path_type=Path), default=None, help="write the rows to a CSV file"
)
@click.option(
    "--xlsx", "xlsx_path", type=click.Path(path_type=Path), default=None, help="write an Excel workbook"
)
@click.pass_obj
def report(
    settings: Settings,
    campaign_id: str | None,
    by: str,
    since: str | None,
    until: str | None,
    zone_name: str,
    funnel: bool,
    agents: bool,
    csv_path: Path | None,
    xlsx_path: Path | None,
) -> None:
    """Attempts, connect rate, talk time, grades A-F, transfers and abandoned transfers, agents'
    conversion, opt-outs, complaints and inspection scores, per campaign and period."""
    from voicebot.reports.render import (
        agent_records,
        agent_text,
        campaign_records,
        campaign_text,
        funnel_text,
        scorecard_text,
    )
    from voicebot.reports.tables import agent_rows, campaign_rows, scorecards
    from voicebot.reports.tables import funnel as script_funnel

    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        click.echo(f"error: {zone_name!r} is not a time zone (write it like Asia/Shanghai)", err=True)
        sys.exit(2)
    today = datetime.now(zone).date()
    start = _day(since, zone, today - timedelta(days=30))
    end = _day(until, zone, today) + timedelta(days=1)
    with open_store(settings, upgrade=False) as store:
        facts, ended_by = store.reports.call_facts(start, end, campaign_id)
        complaints = store.reports.complaint_facts(start, end, campaign_id)
        offers = store.reports.agent_facts(start, end) if agents or xlsx_path else []
        inspected, against = store.reports.agent_quality(start, end) if agents or xlsx_path else ({}, {})
    period = cast("Period", by)
    rows = campaign_rows(facts, period, zone, complaints)
    click.echo(
        f"{start:%Y-%m-%d} to {end - timedelta(days=1):%Y-%m-%d} ({zone_name}), by {by}: {len(facts)} calls"
    )
    for line in campaign_text(rows):
        click.echo(line)
    steps = script_funnel(facts, ended_by)
    if funnel:
        click.echo("")
        click.echo("script funnel (answered calls)")
        for line in funnel_text(steps):
            click.echo(line)
    people = agent_rows(offers, period, zone)
    cards = scorecards(people, inspected, against)
    if agents:
        click.echo("")
        for line in agent_text(people):
            click.echo(line)
        click.echo("")
        click.echo("scorecards (volume 30%, results 30%, quality 20%, customer feedback 20%)")
        for line in scorecard_text(cards):
            click.echo(line)
    sheets: dict[str, list[dict[str, Any]]] = {
        "campaigns": campaign_records(rows),
        "funnel": [
            {"node": s.node, "reached": s.reached, "ended_here": s.left, "callee_hung_up": s.ended_by_callee}
            for s in steps
        ],
        "agents": agent_records(people),
        "scorecards": [dataclasses.asdict(c) for c in cards],
    }
    if csv_path is not None:
        _write_csv(csv_path, sheets["campaigns"])
        click.echo(f"wrote {csv_path}")
    if xlsx_path is not None:
        _write_xlsx(xlsx_path, sheets)
        click.echo(f"wrote {xlsx_path}")


def _columns(records: list[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(key for record in records for key in record))


def _write_csv(path: Path, records: list[dict[str, Any]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=_columns(records) or ["period"])
        writer.writeheader()
        writer.writerows(records)


def _write_xlsx(path: Path, sheets: dict[str, list[dict[str, Any]]]) -> None:
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for name, records in sheets.items():
        sheet = book.create_sheet(name)
        columns = _columns(records)
        sheet.append(columns)
        for record in records:
            sheet.append([record.get(c) for c in columns])
    book.save(path)
