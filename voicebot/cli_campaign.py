"""``voicebot campaign|leads|dnc|audit``: campaigns, their leads, do-not-call lists and the audit trail."""

from __future__ import annotations

import asyncio
import signal
import sys
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import click

from voicebot.cli_support import open_store, operator
from voicebot.config import Settings
from voicebot.errors import ConfigError, VoicebotError

T = TypeVar("T")


def _pad(text: str, width: int) -> str:
    """``text`` cut or padded to ``width`` terminal columns (a CJK character takes two)."""
    out, used = "", 0
    for ch in text:
        w = 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
        if used + w > width:
            break
        out, used = out + ch, used + w
    return out + " " * (width - used)


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def _number(raw: str, settings: Settings) -> str:
    from voicebot.campaign.leads import normalize_number

    try:
        return normalize_number(raw, settings.dial.default_region)
    except ValueError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)


# -- campaign -------------------------------------------------------------------------------
@click.group()
def campaign() -> None:
    """Campaigns: create from a YAML file, import leads, start/pause/resume/stop, run, status."""


@campaign.command("create")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def campaign_create(settings: Settings, file: Path) -> None:
    """Create a campaign from FILE, or update it if it exists (the file is the source of truth)."""
    from voicebot.campaign.definition import load_campaign

    try:
        definition = load_campaign(file)
        if definition.script is not None:
            from voicebot.calls.scripted import LoadedScript

            LoadedScript.load(definition.script, settings.speech.voice)  # a broken script stops here
        if definition.trunk is not None and definition.trunk not in settings.trunks:
            known = ", ".join(settings.trunks) or "none"
            raise ConfigError(
                f"{file}: trunk {definition.trunk!r} is not in the settings (defined: {known})",
                hint=f"add [trunks.{definition.trunk}] with its channel_template to voicebot.toml",
            )
    except VoicebotError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)
    with open_store(settings) as store:
        info = store.campaigns.save_campaign(definition.id, definition.name, definition.to_json(), operator())
    click.echo(f"campaign {info.id} ({info.state}): {info.name or '-'}")


@campaign.command("import")
@click.argument("campaign_id")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--map", "mapping", multiple=True, metavar="FIELD=HEADER", help="e.g. phone=客户电话")
@click.option("--skip-bad", is_flag=True, help="import the good rows even if some are rejected")
@click.option("--encoding", default=None, help="CSV encoding (default: UTF-8 with or without BOM, else GBK)")
@click.option("--sheet", default=None, help="XLSX sheet (default: the first)")
@click.option("--consent-source", default=None, help="consent source for rows without their own")
@click.option("--consent-evidence", default=None, help="evidence reference for those rows")
@click.pass_obj
def campaign_import(
    settings: Settings,
    campaign_id: str,
    file: Path,
    mapping: tuple[str, ...],
    skip_bad: bool,
    encoding: str | None,
    sheet: str | None,
    consent_source: str | None,
    consent_evidence: str | None,
) -> None:
    """Import leads from a CSV or XLSX FILE: all or nothing unless --skip-bad."""
    from voicebot.campaign.definition import Campaign
    from voicebot.campaign.leads import describe_rejects, parse_leads, read_table

    columns = {}
    for item in mapping:
        name, sep, header = item.partition("=")
        if not sep:
            click.echo(f"error: --map {item!r}: write FIELD=HEADER", err=True)
            sys.exit(2)
        columns[name.strip()] = header.strip()
    with open_store(settings) as store:
        info = store.campaigns.campaign(campaign_id)
        definition, state = Campaign.model_validate(info.definition), info.state
        try:
            parsed = parse_leads(
                read_table(file, encoding=encoding, sheet=sheet),
                region=definition.region,
                columns=columns,
                consent_source=consent_source,
                consent_evidence=consent_evidence,
            )
        except VoicebotError as e:
            click.echo(f"error: {file}: {e}", err=True)
            sys.exit(2)
        mapped = ", ".join(f"{k}={v}" for k, v in parsed.columns.items())
        click.echo(f"columns: {mapped}")
        if parsed.rejects:
            click.echo(f"{len(parsed.rejects)} row(s) rejected:")
            click.echo(describe_rejects(file, parsed.rejects))
            if not skip_bad:
                click.echo("nothing imported (fix the rows, or import the rest with --skip-bad)", err=True)
                sys.exit(1)
        new, merged = store.campaigns.import_leads(campaign_id, parsed.leads, str(file), operator())
    without = sum(lead.consent_source is None for lead in parsed.leads)
    click.echo(
        f"imported {new} new lead(s), merged {merged} into existing leads, "
        f"merged {len(parsed.merged)} duplicate row(s) in the file, rejected {len(parsed.rejects)}"
    )
    if without and definition.require_consent:
        click.echo(f"note: {without} lead(s) have no consent record; this campaign will not dial them")
    if new and state in ("finished", "stopped"):
        click.echo(
            f"note: the campaign is {state}; `voicebot campaign resume {campaign_id}` dials the new leads"
        )


def _transition(state: str, verb: str) -> Callable[..., None]:
    @click.argument("campaign_id")
    @click.option("--reason", default="", help="recorded in the audit")
    @click.pass_obj
    def command(settings: Settings, campaign_id: str, reason: str) -> None:
        with open_store(settings) as store:
            info = store.campaigns.set_state(campaign_id, state, operator(), reason)
        click.echo(f"campaign {info.id} is {info.state}")

    command.__doc__ = f"{verb} CAMPAIGN_ID."
    return command


campaign.command("start")(_transition("running", "Start dialing"))
campaign.command("pause")(_transition("paused", "Pause (calls in progress finish)"))
campaign.command("resume")(_transition("running", "Resume"))
campaign.command("stop")(_transition("stopped", "Stop for good (calls in progress finish)"))


@campaign.command("status")
@click.argument("campaign_id", required=False)
@click.pass_obj
def campaign_status(settings: Settings, campaign_id: str | None) -> None:
    """Progress of one campaign (or all): leads by status, calls by disposition, rates; and the
    dialer workers: calls up against their capacity, and what holds their dialing back."""
    from voicebot.campaign.report import summarize, workers_summary

    with open_store(settings) as store:
        infos = [store.campaigns.campaign(campaign_id)] if campaign_id else store.campaigns.campaigns()
        if not infos:
            click.echo("no campaigns yet: voicebot campaign create FILE.yml")
        for info in infos:
            click.echo(
                summarize(
                    info,
                    store.campaigns.remaining(info.id),
                    store.campaigns.attempts(info.id),
                    store.campaigns.next_due(info.id),
                )
            )
        # a worker beats every pass (a second by default); one silent for minutes is gone
        click.echo(workers_summary(store.campaigns.workers(), datetime.now(UTC), alive=timedelta(minutes=2)))


@campaign.command("run")
@click.argument("campaign_ids", nargs=-1)
@click.option("--until-idle", is_flag=True, help="return when no lead is due and no call is up")
@click.pass_obj
def campaign_run(settings: Settings, campaign_ids: tuple[str, ...], until_idle: bool) -> None:
    """Run this worker's dialer for running campaigns (all, or those named) until interrupted."""
    from voicebot.app import App

    async def run() -> None:
        async with App(settings) as app:
            dialer = app.dialer()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, dialer.stop)
            click.echo(f"dialer {dialer.worker} running")
            if app.console is not None:
                click.echo(f"voicebot console: {app.console.url}")
            await dialer.run(set(campaign_ids) or None, until_idle=until_idle)
        click.echo("dialer stopped")

    try:
        asyncio.run(run())
    except VoicebotError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(1)


# -- leads ----------------------------------------------------------------------------------
@click.command()
@click.argument("campaign_id")
@click.option("--status", default=None, help="pending, dialing, done, dnc, exhausted, expired, no_consent")
@click.option("-n", "--limit", default=50, show_default=True)
@click.pass_obj
def leads(settings: Settings, campaign_id: str, status: str | None, limit: int) -> None:
    """A campaign's leads: status, attempts, the next attempt in the callee's own time, last result."""
    from zoneinfo import ZoneInfo

    with open_store(settings) as store:
        info = store.campaigns.campaign(campaign_id)
        rows = store.campaigns.leads(campaign_id, status, limit)
    default_zone = str(info.definition.get("timezone") or "Asia/Shanghai")
    click.echo(
        f"{'id':>6}  {'phone':16} {'name':16} {'status':10} {'att':>3}  {'next (callee time)':21}  last"
    )
    for r in rows:
        last = " ".join(x for x in (r.last_disposition, r.last_outcome, r.grade) if x) or "-"
        upcoming = "-"
        if r.status == "pending" and r.next_at is not None:
            upcoming = r.next_at.astimezone(ZoneInfo(r.timezone or default_zone)).strftime(
                "%Y-%m-%d %H:%M %Z"
            )
        click.echo(
            f"{r.id:>6}  {r.phone:16} {_pad(r.name, 16)} {r.status:10} {r.attempts:>3}  "
            f"{upcoming:21}  {last}  {r.last_reason or ''}".rstrip()
        )


# -- do not call ----------------------------------------------------------------------------
@click.group()
def dnc() -> None:
    """Do-not-call lists: the global one, or a campaign's (--campaign)."""


@dnc.command("add")
@click.argument("numbers", nargs=-1, required=True)
@click.option("--campaign", "scope", default="*", help="a campaign's list (default: the global list)")
@click.option("--reason", default="added by an operator", show_default=True)
@click.pass_obj
def dnc_add(settings: Settings, numbers: tuple[str, ...], scope: str, reason: str) -> None:
    """Put NUMBERS on the list; their pending leads stop at once."""
    phones = [_number(n, settings) for n in numbers]
    with open_store(settings) as store:
        added = store.campaigns.dnc_add(phones, scope=scope, reason=reason, actor=operator())
    click.echo(f"{added} number(s) added, {len(phones) - added} already listed")


@dnc.command("remove")
@click.argument("number")
@click.option("--campaign", "scope", default="*")
@click.option("--reason", required=True, help="why (kept in the audit)")
@click.pass_obj
def dnc_remove(settings: Settings, number: str, scope: str, reason: str) -> None:
    """Take NUMBER off a list (audited with your name and --reason)."""
    phone = _number(number, settings)
    with open_store(settings) as store:
        removed = store.campaigns.dnc_remove(phone, scope=scope, reason=reason, actor=operator())
    if not removed:
        click.echo(f"{phone} is not on the {'global' if scope == '*' else scope} list", err=True)
        sys.exit(1)
    click.echo(f"{phone} removed")


@dnc.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--campaign", "scope", default="*")
@click.option("--reason", default="imported list", show_default=True)
@click.option("--encoding", default=None)
@click.pass_obj
def dnc_import(settings: Settings, file: Path, scope: str, reason: str, encoding: str | None) -> None:
    """Import numbers from a CSV/XLSX file with a phone column (or one number per line)."""
    from voicebot.campaign.leads import describe_rejects, parse_leads, read_table

    try:
        rows = read_table(file, encoding=encoding)
        if rows and len(rows[0][1]) == 1 and any(ch.isdigit() for ch in rows[0][1][0]):
            rows = [(0, ["phone"]), *rows]  # a bare list of numbers
        parsed = parse_leads(rows, region=settings.dial.default_region)
    except VoicebotError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)
    if parsed.rejects:
        click.echo(f"{len(parsed.rejects)} row(s) rejected:\n{describe_rejects(file, parsed.rejects)}")
    with open_store(settings) as store:
        added = store.campaigns.dnc_add(
            [lead.phone for lead in parsed.leads], scope=scope, reason=reason, actor=operator()
        )
    click.echo(f"{added} number(s) added, {len(parsed.leads) - added} already listed")


@dnc.command("check")
@click.argument("number")
@click.pass_obj
def dnc_check(settings: Settings, number: str) -> None:
    """Is NUMBER on any list? Exit 0 if it may be called, 1 if it is listed."""
    phone = _number(number, settings)
    with open_store(settings) as store:
        entries = store.campaigns.dnc_check(phone)
    if not entries:
        click.echo(f"{phone}: not listed")
        return
    for e in entries:
        where = "global list" if e.scope == "*" else f"campaign {e.scope}"
        click.echo(f"{phone}: on the {where} since {_when(e.added_at)} ({e.reason}; by {e.added_by})")
    sys.exit(1)


# -- audit ----------------------------------------------------------------------------------
@click.command()
@click.option("--campaign", default=None)
@click.option("--number", default=None)
@click.option("--lead", "lead_id", type=int, default=None)
@click.option(
    "--action", default=None, help="dialed, skipped, result, dnc_add, dnc_remove, import, retention, ..."
)
@click.option("-n", "--limit", default=50, show_default=True)
@click.pass_obj
def audit(
    settings: Settings,
    campaign: str | None,
    number: str | None,
    lead_id: int | None,
    action: str | None,
    limit: int,
) -> None:
    """Every dial decision and list change, oldest first (times UTC)."""
    phone = _number(number, settings) if number else None
    with open_store(settings) as store:
        entries = store.campaigns.audit(
            campaign_id=campaign, phone=phone, lead_id=lead_id, action=action, limit=limit
        )
    for e in entries:
        subject = " ".join(
            x for x in (e.campaign_id, f"lead {e.lead_id}" if e.lead_id else None, e.phone) if x
        )
        detail = " ".join(f"{k}={v}" for k, v in e.detail.items() if v is not None)
        click.echo(
            f"{_when(e.at)}  {e.action:16} {e.reason or '-':32} {subject}  {detail}  [{e.actor}]".rstrip()
        )
