"""``voicebot report``: campaigns by day, week or month, the script funnel, the agents and their
scorecards; on the terminal and as CSV, Excel and PDF. ``voicebot report daily|weekly|monthly``
covers the last whole day, week or month for operators to schedule (docs/operations.md)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from voicebot.cli_support import open_store
from voicebot.config import Settings

if TYPE_CHECKING:
    from voicebot.reports.periods import Schedule
    from voicebot.reports.report import Report
    from voicebot.reports.tables import Period


def _day(text: str | None, default: date) -> date:
    try:
        return date.fromisoformat(text) if text else default
    except ValueError:
        click.echo(f"error: {text!r} is not a date (write it like 2026-12-01)", err=True)
        sys.exit(2)


@click.command()
@click.argument("schedule", required=False, type=click.Choice(["daily", "weekly", "monthly"]))
@click.option("--campaign", "campaign_id", default=None, help="one campaign (default: all)")
@click.option(
    "--by", "by", type=click.Choice(["day", "week", "month"]), default=None, help="rows per (default: day)"
)
@click.option("--since", default=None, metavar="DATE", help="first day (default: 30 days ago)")
@click.option("--until", default=None, metavar="DATE", help="last day, included (default: today)")
@click.option("--today", default=None, metavar="DATE", help="run a scheduled report as if on this day")
@click.option(
    "--timezone", "zone_name", default=None, help="the zone days start in (default: [reports] timezone)"
)
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
@click.option("--pdf", "pdf_path", type=click.Path(path_type=Path), default=None, help="write a PDF")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="write PDF, Excel and CSV into this directory, named by the report and its days",
)
@click.pass_obj
def report(
    settings: Settings,
    schedule: str | None,
    campaign_id: str | None,
    by: str | None,
    since: str | None,
    until: str | None,
    today: str | None,
    zone_name: str | None,
    funnel: bool,
    agents: bool,
    csv_path: Path | None,
    xlsx_path: Path | None,
    pdf_path: Path | None,
    out_dir: Path | None,
) -> None:
    """Attempts, connect rate, talk time, grades A-F, transfers and abandoned transfers, agents'
    conversion, opt-outs, complaints and inspection scores, per campaign and period.

    SCHEDULE (daily, weekly or monthly) reports the last whole day, seven days or month, with the
    funnel and the agents."""
    from voicebot.reports.periods import days_label, window
    from voicebot.reports.render import agent_text, campaign_text, funnel_text, scorecard_text
    from voicebot.reports.report import build

    zone_name = zone_name or settings.reports.timezone
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        click.echo(f"error: {zone_name!r} is not a time zone (write it like Asia/Shanghai)", err=True)
        sys.exit(2)
    now = _day(today, datetime.now(zone).date())
    if schedule is not None:
        if since or until:
            click.echo("error: a scheduled report sets its own days: leave out --since and --until", err=True)
            sys.exit(2)
        span = window(cast("Schedule", schedule), now)
        first, last, period = span.first, span.last, cast("Period", by or span.by)
        funnel = agents = True
    else:
        first, last = _day(since, now - timedelta(days=30)), _day(until, now)
        period = cast("Period", by or "day")
    if last < first:
        click.echo(f"error: the last day {last} is before the first {first}", err=True)
        sys.exit(2)
    start = datetime.combine(first, datetime.min.time(), zone)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), zone)
    wants_agents = agents or xlsx_path is not None or pdf_path is not None or out_dir is not None
    with open_store(settings, upgrade=False) as store:
        facts = store.reports.facts(start, end, campaign_id, agents=wants_agents)
    result = build(
        facts,
        first=first,
        last=last,
        zone=zone_name,
        by=period,
        campaign_id=campaign_id,
        weights=settings.reports.scorecard_weights,
    )
    click.echo(f"{result.title}: {result.calls} calls")
    for line in campaign_text(result.rows):
        click.echo(line)
    if funnel:
        click.echo("")
        click.echo("script funnel (answered calls)")
        for line in funnel_text(result.funnel):
            click.echo(line)
    if agents:
        click.echo("")
        for line in agent_text(result.agents):
            click.echo(line)
        click.echo("")
        click.echo(f"scorecards ({result.weights_text})")
        for line in scorecard_text(result.scorecards):
            click.echo(line)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        days = days_label(first, last)
        stem = out_dir / f"voicebot-{schedule or 'report'}-{campaign_id or 'all'}-{days}"
        pdf_path = pdf_path or stem.with_suffix(".pdf")
        xlsx_path = xlsx_path or stem.with_suffix(".xlsx")
        csv_path = csv_path or stem.with_suffix(".csv")
    _write(result, csv_path, xlsx_path, pdf_path)


def _write(result: Report, csv_path: Path | None, xlsx_path: Path | None, pdf_path: Path | None) -> None:
    from voicebot.errors import VoicebotError
    from voicebot.reports.files import csv_bytes, xlsx_bytes
    from voicebot.reports.pdf import render_pdf

    sheets = result.sheets()
    try:
        makers: list[tuple[Path | None, Callable[[], bytes]]] = [
            (csv_path, lambda: csv_bytes(sheets["campaigns"])),
            (xlsx_path, lambda: xlsx_bytes(sheets)),
            (pdf_path, lambda: render_pdf(result)),
        ]
        for path, make in makers:
            if path is not None:
                path.write_bytes(make())
                click.echo(f"wrote {path}")
    except OSError as e:
        click.echo(f"error: cannot write {e.filename}: {e.strerror}", err=True)
        sys.exit(1)
    except VoicebotError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(1)
