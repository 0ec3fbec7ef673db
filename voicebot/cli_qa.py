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
