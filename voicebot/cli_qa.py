"""``voicebot qa``: quality inspection rubrics checked, and calls scored by them."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from voicebot.cli_support import open_store
from voicebot.config import Settings
from voicebot.errors import VoicebotError


@click.group()
def qa() -> None:
    """Quality inspection: rubrics (qa.yml beside a script) and call scores."""


@qa.command("check")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
def qa_check(path: Path) -> None:
    """Every problem in a rubric (a qa.yml, or the script directory holding one), with file and
    line, its names checked against the script beside it; exit 1 if any is an error."""
    from voicebot.qa.check import check_rubric

    findings = check_rubric(path)
    for finding in findings:
        click.echo(str(finding))
    errors = sum(f.severity == "error" for f in findings)
    click.echo(f"{path}: {errors} error(s), {len(findings) - errors} warning(s)")
    sys.exit(1 if errors else 0)


@qa.command("score")
@click.argument("call_id")
@click.option(
    "--rubric",
    "rubric_path",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="a qa.yml or a script directory (default: [call] script's)",
)
@click.pass_obj
def qa_score(settings: Settings, call_id: str, rubric_path: Path | None) -> None:
    """Score one call by a rubric: each rule met or not, with what shows it. CALL_ID may be the
    first characters of the id."""
    from voicebot.dialog.flow import load_flow
    from voicebot.qa.inspect import CallView, inspect
    from voicebot.qa.rubric import load_rubric

    path = rubric_path or settings.call.script
    if path is None:
        click.echo("error: no rubric: give --rubric DIR (or set [call] script)", err=True)
        sys.exit(2)
    try:
        rubric = load_rubric(path)
        directory = path if path.is_dir() else path.parent
        company = load_flow(directory / "flow.yml")[0].company if (directory / "flow.yml").exists() else ""
    except VoicebotError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(1)
    with open_store(settings, upgrade=False) as store:
        found = store.calls_starting_with_sync(call_id.strip())
        if len(found) != 1:
            click.echo(
                f"error: {'no call' if not found else 'more than one call'} with an id starting {call_id!r}",
                err=True,
            )
            sys.exit(1)
        record = found[0]
        events = store.events_sync(record.id)
    result = inspect(rubric, CallView.of(record, events, {"company": company}))
    verdict = "pass" if result.passed else "FAIL"
    click.echo(f"{record.id}  {rubric.rubric}: {result.score:g}/{result.total:g} {verdict}")
    for f in result.findings:
        mark = (
            "manual"
            if f.met is None
            else ("ok" if f.met else ("FATAL" if f.fatal else f"-{f.points_lost:g}"))
        )
        click.echo(f"  {mark:>6}  {f.rule}: {f.title}")
        for line in f.evidence if f.met is False else ():
            click.echo(f"          {line}")


@qa.command("sample")
@click.option("--campaign", "campaign_id", required=True)
@click.option("--week", default=None, metavar="2026-W49", help="the ISO week (default: this week)")
@click.option("--per-week", type=int, default=None, help="calls a week (default: [qa] per_week, 25)")
@click.option("--per-month", type=int, default=None, help="calls a month (default: [qa] per_month, 100)")
@click.pass_obj
def qa_sample(
    settings: Settings, campaign_id: str, week: str | None, per_week: int | None, per_month: int | None
) -> None:
    """Fill the inspectors' queue for a campaign's week: every call that failed its automatic
    inspection, every sign-up, then a sample spread over grades and outcomes up to the quota.
    (``voicebot serve`` does it by itself: [qa] auto_sample.)"""
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    from voicebot.cli_support import operator
    from voicebot.inspection_round import fill_week
    from voicebot.qa.sampling import SamplingPolicy

    with open_store(settings) as store:
        try:
            info = store.campaigns.campaign(campaign_id)
        except VoicebotError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(1)
        zone = ZoneInfo(str(info.definition.get("timezone") or "Asia/Shanghai"))
        today = datetime.now(zone).date()
        try:
            year, number = (int(x) for x in week.split("-W")) if week else today.isocalendar()[:2]
            monday = date.fromisocalendar(year, number, 1)
        except ValueError:
            click.echo(f"error: {week!r} is not an ISO week (write it like 2026-W49)", err=True)
            sys.exit(2)
        policy = SamplingPolicy(
            per_week=per_week if per_week is not None else settings.qa.per_week,
            per_month=per_month if per_month is not None else settings.qa.per_month,
            signups=settings.qa.signups,
        )
        f = fill_week(store, campaign_id, monday, policy, actor=operator())
    click.echo(
        f"{campaign_id} {f.week}: {f.answered} answered calls, {f.queued_before} queued before, "
        f"{f.added} queued now ({f.flagged} flagged, {f.signups} sign-ups, {f.sampled} sampled)"
    )


@qa.command("queue")
@click.option("--campaign", "campaign_id", default=None)
@click.option("--state", type=click.Choice(["queued", "scored", "disputed", "settled"]), default=None)
@click.pass_obj
def qa_queue(settings: Settings, campaign_id: str | None, state: str | None) -> None:
    """The inspectors' queue: each call, why it is there, and where its inspection stands."""
    with open_store(settings, upgrade=False) as store:
        rows = store.inspections.queue(campaign_id=campaign_id, state=state)
    for r in rows:
        result = "" if r.score is None else f"{r.score:g} {'pass' if r.passed else 'fail'} by {r.inspector}"
        click.echo(
            f"{r.id:>6}  {r.week}  {r.campaign_id or '-':16} {r.reason:8} {r.state:9} {r.call_id}  {result}"
        )
    click.echo(f"{len(rows)} inspection(s)")


@qa.command("follow-ups")
@click.option("--kind", type=click.Choice(["script", "agent", "callback"]), default=None)
@click.option("--done", is_flag=True, help="the finished ones, with what was done")
@click.pass_obj
def qa_follow_ups(settings: Settings, kind: str | None, done: bool) -> None:
    """What failed inspections asked for: script fixes (for the script writers), agents' coaching,
    callbacks; open ones unless --done."""
    with open_store(settings, upgrade=False) as store:
        rows = store.inspections.follow_ups(state="done" if done else "open", limit=1000)
    rows = [r for r in rows if kind is None or r.kind == kind]
    for r in rows:
        who = r.assignee or ("script writers" if r.kind == "script" else "any agent")
        click.echo(f"{r.id:>6}  {r.opened_at:%Y-%m-%d}  {r.kind:8} {who:16} {r.call_id}  {r.note}")
        if done:
            click.echo(f"        done by {r.done_by}: {r.answer}")
    click.echo(f"{len(rows)} follow-up(s)")
