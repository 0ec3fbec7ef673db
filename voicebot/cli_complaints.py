"""``voicebot complaints``: complaints recorded and handled to closure."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click

from voicebot.cli_support import open_store, operator
from voicebot.config import Settings
from voicebot.errors import VoicebotError
from voicebot.qa import complaints as rules


def _fail(e: VoicebotError) -> None:
    click.echo(f"error: {e}", err=True)
    sys.exit(1)


@click.group()
def complaints() -> None:
    """Complaints against a call, a number or an agent: received, investigated, answered, closed."""


@complaints.command("add")
@click.option("--channel", type=click.Choice(rules.CHANNELS), required=True)
@click.option("--category", required=True, help="one of [complaints] categories")
@click.option("--severity", type=click.Choice(rules.SEVERITIES), required=True)
@click.option("--description", required=True)
@click.option("--phone", default=None, help="the complainant's number (E.164)")
@click.option("--call", "call_id", default=None)
@click.option("--campaign", "campaign_id", default=None)
@click.option("--agent", default=None, help="the agent complained about (username)")
@click.option("--urgent", is_flag=True)
@click.option(
    "--keep-calling",
    default="",
    metavar="REASON",
    help="do not put the number on the do-not-call list, because...",
)
@click.pass_obj
def complaints_add(settings: Settings, /, **fields: str | bool | None) -> None:
    """Record a complaint (its number goes on the do-not-call list unless --keep-calling says why not)."""
    with open_store(settings) as store:
        try:
            c = store.campaigns.complaint_add(
                actor=operator(),
                due_hours=settings.complaints.due_hours,
                categories=settings.complaints.categories,
                **fields,  # type: ignore[arg-type]
            )
        except VoicebotError as e:
            _fail(e)
            return
    blocked = "number on the do-not-call list" if c.blocked else "number not blocked"
    click.echo(f"complaint {c.id}: {c.severity}, due {c.due_at:%Y-%m-%d %H:%M UTC}, {blocked}"
               + (", escalated" if c.escalated else ""))  # fmt: skip


@complaints.command("list")
@click.option("--open", "open_only", is_flag=True, help="only those not closed, soonest due first")
@click.pass_obj
def complaints_list(settings: Settings, open_only: bool) -> None:
    """Complaints, overdue ones marked OVERDUE."""
    now = datetime.now(UTC)
    with open_store(settings, upgrade=False) as store:
        rows = store.campaigns.complaints(open_only=open_only)
    for c in rows:
        late = " OVERDUE" if c.overdue(now) else ""
        against = c.agent or c.phone or c.call_id or "-"
        click.echo(
            f"{c.id:>5}  {c.received_at:%Y-%m-%d %H:%M}  {c.severity:8} {c.category:14} {c.state:13} "
            f"due {c.due_at:%m-%d %H:%M}{late}  {against}"
        )
    click.echo(f"{len(rows)} complaint(s)")


@complaints.command("move")
@click.argument("complaint_id", type=int)
@click.argument("state", type=click.Choice(rules.STATES[1:]))
@click.option("--answer", default="", help="the answer given to the complainant (needed to answer or close)")
@click.pass_obj
def complaints_move(settings: Settings, complaint_id: int, state: str, answer: str) -> None:
    """Move a complaint on: investigating, answered, closed."""
    with open_store(settings) as store:
        try:
            c = store.campaigns.complaint_move(complaint_id, state, actor=operator(), answer=answer)
        except VoicebotError as e:
            _fail(e)
            return
    click.echo(f"complaint {c.id}: {c.state}")


@complaints.command("satisfaction")
@click.argument("complaint_id", type=int)
@click.argument("score", type=int)
@click.pass_obj
def complaints_satisfaction(settings: Settings, complaint_id: int, score: int) -> None:
    """The complainant's satisfaction after closing: 1 (very dissatisfied) to 5 (very satisfied)."""
    with open_store(settings) as store:
        try:
            store.campaigns.complaint_satisfaction(complaint_id, score, actor=operator())
        except VoicebotError as e:
            _fail(e)
            return
    click.echo(f"complaint {complaint_id}: satisfaction {score}")
