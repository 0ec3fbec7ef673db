"""The ``voicebot`` command."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from voicebot import logs
from voicebot.cli_support import keep_private, open_store, operator
from voicebot.config import Settings, load_settings
from voicebot.errors import DialRefused, VoicebotError

T = TypeVar("T")


def _run(coro: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(coro)
    except VoicebotError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)


@click.group()
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=None,
    help="settings file (default: ./voicebot.toml or $VOICEBOT_CONFIG)",
)
@click.option("--log-level", default=None, help="DEBUG, INFO, WARNING, ERROR")
@click.pass_context
def main(ctx: click.Context, config_path: Path | None, log_level: str | None) -> None:
    """voicebot: outbound sales calls with a voice robot on Asterisk."""
    try:
        settings = load_settings(config_path)
        keep_private(settings.data_dir)
    except VoicebotError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)
    logs.setup(log_level or settings.log_level)
    ctx.obj = settings


@main.command()
@click.option("--no-dialer", is_flag=True, help="take calls only; dial no campaign")
@click.pass_obj
def serve(settings: Settings, no_dialer: bool) -> None:
    """Run AMI + FastAGI + AudioSocket, and the dialer for running campaigns, until interrupted."""
    from voicebot import inspection_round, privacy
    from voicebot.app import App

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with App(settings) as app:
            assert app.agi and app.audiosocket
            click.echo(
                f"voicebot serving: FastAGI {settings.agi.host}:{app.agi.port}, "
                f"AudioSocket {settings.audiosocket.host}:{app.audiosocket.port}, "
                f"AMI {settings.ami.host}:{settings.ami.port}"
            )
            if app.console is not None:
                click.echo(f"voicebot console: {app.console.url}")
            dialer = None if no_dialer else app.dialer()
            dialing = asyncio.create_task(dialer.run(), name="dialer") if dialer else None
            purging = asyncio.create_task(privacy.run_every(app.store, settings, stop), name="retention")
            sampling = (
                asyncio.create_task(inspection_round.run_every(app.store, settings, stop), name="sampling")
                if settings.qa.auto_sample
                else None
            )
            await stop.wait()
            click.echo("stopping")
            if dialer is not None and dialing is not None:
                dialer.stop()  # no new calls; the calls in progress finish
                await dialing
            await purging
            if sampling is not None:
                await sampling

    _run(run())


@main.command()
@click.argument("destination")
@click.option("--lead", default=None, help="lead id to attach to the call record")
@click.option("--campaign", default=None, help="campaign id to attach to the call record")
@click.option(
    "--override",
    default=None,
    metavar="REASON",
    help="place it although the calling hours, a cap or missing consent refuse it (audited)",
)
@click.pass_obj
def call(
    settings: Settings, destination: str, lead: str | None, campaign: str | None, override: str | None
) -> None:
    """Place one outbound call to DESTINATION (a phone number or a channel) and print the outcome.

    A phone number goes through the dial rules first (do-not-call, consent, calling hours in
    the callee's zone, caps) and the audit; a refused call exits 3 with the reason."""
    from voicebot.app import App
    from voicebot.calls.describe import transcript_lines
    from voicebot.calls.destination import resolve

    d = settings.dial
    try:  # a bad number is reported before anything connects
        resolve(
            destination, template=d.channel_template, number_format=d.number_format, region=d.default_region
        )
    except VoicebotError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)

    if override is not None and not override.strip():
        click.echo("error: --override needs a reason", err=True)
        sys.exit(2)

    async def run() -> int:
        async with App(settings) as app:
            try:
                outcome = await app.call(
                    destination,
                    lead_id=lead,
                    campaign_id=campaign,
                    actor=operator(),
                    override=override,
                )
            except DialRefused as e:
                click.echo(f"refused: {e}", err=True)
                return 3
        r = outcome.record
        click.echo(f"call {r.id}")
        click.echo(f"  destination  {r.destination}")
        click.echo(f"  disposition  {r.disposition}")
        click.echo(f"  hangup cause {r.hangup_cause} {r.hangup_cause_text or ''}".rstrip())
        if r.talk_seconds is not None:
            click.echo(
                f"  talk         {r.talk_seconds:.1f} s (bot {r.bot_audio_seconds or 0:.1f} s audio, "
                f"callee {r.callee_audio_seconds or 0:.1f} s audio)"
            )
        if r.end_reason:
            click.echo(f"  ended by     {r.end_reason}")
        if r.recording:
            click.echo(f"  recording    {settings.recording_path(r.recording)}")
        for line in transcript_lines(r):
            click.echo(line)
        if r.error:
            click.echo(f"  error        {r.error}")
        if r.disposition == "failed" and (r.hangup_cause_text or "").startswith(("originate", "channel")):
            click.echo(
                f"  fix: check the destination and [dial] context {settings.dial.context!r}; "
                "run voicebot doctor"
            )
        return 0 if r.disposition != "failed" else 1

    sys.exit(_run(run()))


@main.group(invoke_without_command=True)
@click.option("-n", "--limit", default=20, show_default=True)
@click.pass_context
def calls(ctx: click.Context, limit: int) -> None:
    """List recent calls; `voicebot calls show ID` shows one whole."""
    if ctx.invoked_subcommand is not None:
        return
    settings: Settings = ctx.obj
    with open_store(settings, upgrade=False) as store:
        rows = store.recent_calls_sync(limit)
    if not rows:
        click.echo("no calls yet")
        return
    click.echo(
        f"{'started (UTC)':19}  {'disposition':11}  {'talk':>6}  {'ended by':13}  {'destination':30}  id"
    )
    for r in rows:
        started = r.created_at.strftime("%Y-%m-%d %H:%M:%S") if r.created_at else ""
        talk = f"{r.talk_seconds:.1f}s" if r.talk_seconds is not None else "-"
        click.echo(
            f"{started:19}  {r.disposition or r.state:11}  {talk:>6}  {r.end_reason or '-':13}  "
            f"{r.destination[:30]:30}  {r.id}"
        )


@calls.command("show")
@click.argument("call_id")
@click.pass_obj
def calls_show(settings: Settings, call_id: str) -> None:
    """One call whole: its record, the transcript with times, the script's path, intents and
    grade, the recording, and every event. CALL_ID may be the first characters of the id."""
    from voicebot.calls.describe import describe

    with open_store(settings, upgrade=False) as store:
        found = store.calls_starting_with_sync(call_id.strip())
        if len(found) != 1:
            what = "no call" if not found else "more than one call"
            click.echo(f"error: {what} with an id starting {call_id!r}", err=True)
            click.echo("  fix: `voicebot calls` lists recent calls with their ids", err=True)
            sys.exit(1)
        record = found[0]
        events = store.events_sync(record.id)
        inspections = store.quality.results(record.id)
    recording = settings.recording_path(record.recording) if record.recording else None
    click.echo(describe(record, events, recording, inspections))


@main.command()
@click.pass_obj
def doctor(settings: Settings) -> None:
    """Check AMI, modules, dialplan, ports and the data directory, with a fix for each problem."""
    from voicebot.doctor import print_checks, run_checks

    checks = _run(run_checks(settings))
    sys.exit(0 if print_checks(checks, click.echo) else 1)


@main.command()
@click.option("--dry-run", is_flag=True, help="count what is due, remove nothing")
@click.pass_obj
def retention(settings: Settings, dry_run: bool) -> None:
    """Remove personal data past its age ([retention]): recordings, transcripts, call records
    (anonymized), untouched leads, phone numbers in old audit entries. Do-not-call lists stay;
    the removal is audited. Recordings of ended calls are kept as Ogg Opus. `voicebot serve`
    does this every hour by itself."""
    from voicebot import privacy

    with open_store(settings) as store:
        try:
            done = privacy.apply(store, settings, actor=operator(), dry_run=dry_run)
            packed = None if dry_run else privacy.compress_recordings(store, settings, limit=100_000)
        except VoicebotError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(1)
    r = settings.retention
    click.echo(
        f"kept: recordings {r.recordings_days} d, transcripts {r.transcripts_days} d, "
        f"calls {r.calls_days} d, leads {r.leads_days} d, audit {r.audit_days} d (0: forever)"
    )
    click.echo(("due: " if dry_run else "removed: ") + privacy.describe(done))
    if packed is not None:
        click.echo("recordings: " + privacy.describe_compressed(packed))


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(settings: Settings) -> None:
    """Migrate the database to the newest schema."""
    from voicebot.store import Store

    store = Store(settings.db_url)
    try:
        store.migrate()
        current, _ = store.revision()
    except VoicebotError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(1)
    finally:
        store.close()
    click.echo(f"database at schema {current}")


@main.group()
def script() -> None:
    """Sales scripts (intents/<script>/: nlu.yml + flow.yml)."""


@script.command("check")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
def script_check(directory: Path) -> None:
    """Every problem in a script, with file and line; exit 1 if any is an error."""
    from voicebot.dialog.check import check_script

    findings = check_script(directory)
    for finding in findings:
        click.echo(str(finding))
    errors = sum(f.severity == "error" for f in findings)
    warnings = len(findings) - errors
    click.echo(f"{directory}: {errors} error(s), {warnings} warning(s)")
    sys.exit(1 if errors else 0)


@main.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
def chat(directory: Path) -> None:
    """Talk to a script in the terminal: type what the callee says (empty line = silence)."""
    from voicebot.calls.scripted import LoadedScript
    from voicebot.dialog.grading import grade
    from voicebot.dialog.script import Listen, SayAction, Script, Silence, Started, State, Understood

    try:
        loaded = LoadedScript.load(directory, "en-us")
    except VoicebotError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)
    engine = Script(loaded.flow)

    def show(actions: Sequence[object]) -> None:
        for action in actions:
            if isinstance(action, SayAction):
                click.echo(f"bot: {action.say.text[0] if action.say.text else action.say.recording}")
            elif not isinstance(action, Listen):
                click.echo(f"     [{action}]")

    state, actions = engine.step(State(), Started())
    show(actions)
    while not state.ended:
        try:
            line = click.prompt("you", default="", show_default=False)
        except (EOFError, click.Abort):
            break
        if not line.strip():
            event: Silence | Understood = Silence()
            click.echo("     (silence)")
        else:
            p, event = loaded.understand(line, node=state.node)
            click.echo(
                f"     intent {p.intent or '(no match)'} {p.confidence:.2f} ({p.source})"
                + (f" entities {dict(event.entities)}" if event.entities else "")
            )
        state, actions = engine.step(state, event)
        show(actions)
        now = grade(connected=True, outcome=state.disposition, intents=state.intents)
        click.echo(f"     node {state.node}  grade {now}")
    click.echo(f"end: {state.disposition or 'hung up'}; path {' > '.join(state.path)}")


@script.command("test")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
def script_test(directory: Path) -> None:
    """Run DIRECTORY/tests.yml conversations; exit 1 on any failure (for script repos' CI)."""
    from voicebot.calls.scripted import LoadedScript
    from voicebot.dialog.stories import run_stories

    try:
        loaded = LoadedScript.load(directory, "en-us")
        results = run_stories(loaded, directory / "tests.yml")
    except VoicebotError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)
    covered = {node for r in results for node in r.path}
    for r in results:
        click.echo(f"{'PASS' if r.passed else 'FAIL'}  {r.name}  ({directory / 'tests.yml'}:{r.line})")
        for failure in r.failures:
            click.echo(f"      {failure}")
    missing = sorted(set(loaded.flow.nodes) - covered)
    failed = sum(not r.passed for r in results)
    click.echo(f"{len(results) - failed} passed, {failed} failed")
    click.echo(
        f"nodes covered: {len(covered)}/{len(loaded.flow.nodes)}"
        + (f" (not covered: {', '.join(missing)})" if missing else "")
    )
    sys.exit(1 if failed else 0)


@script.command("schema")
def script_schema() -> None:
    """Print the JSON Schema of flow.yml, for editors (yaml-language-server and others)."""
    import json

    from voicebot.dialog.flow import Flow

    click.echo(json.dumps(Flow.model_json_schema(), indent=2, ensure_ascii=False))


def _register() -> None:
    from voicebot.cli_campaign import audit, campaign, dnc, leads
    from voicebot.cli_complaints import complaints
    from voicebot.cli_console import console, users
    from voicebot.cli_qa import qa
    from voicebot.cli_report import report
    from voicebot.cli_speech import models, nlu

    for command in (campaign, leads, dnc, audit, users, console, qa, report, complaints, models, nlu):
        main.add_command(command)


_register()
