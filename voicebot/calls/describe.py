"""One call's whole record as an operator reads it (``voicebot calls show``). Pure."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from voicebot.store import CallRecord, EventRecord


def transcript_lines(record: CallRecord) -> list[str]:
    """Each turn with its start and end in the call's media time."""
    lines = []
    for turn in record.transcript or []:
        said = turn.get("text") or "(nothing)"
        lines.append(f"  {turn['start']:7.2f}-{turn['end']:7.2f}s {turn['speaker']:>6}: {said}")
    return lines


def describe(
    record: CallRecord, events: Sequence[EventRecord], recording: Path | None, inspections: Sequence[Any] = ()
) -> str:
    r = record
    rows: list[tuple[str, object]] = [
        ("destination", r.destination),
        ("channel", r.channel),
        ("campaign", r.campaign_id),
        ("lead", r.lead_id),
        ("state", r.state),
        ("disposition", r.disposition),
        ("hangup cause", f"{r.hangup_cause} {r.hangup_cause_text or ''}".strip() if r.hangup_cause else None),
        ("ended by", r.end_reason),
        ("created", _time(r.created_at)),
        ("answered", _time(r.answered_at)),
        ("ended", _time(r.ended_at)),
        ("ring", f"{r.ring_seconds:.1f} s" if r.ring_seconds is not None else None),
        ("talk", f"{r.talk_seconds:.1f} s" if r.talk_seconds is not None else None),
        (
            "audio",
            f"bot {r.bot_audio_seconds or 0:.1f} s, callee {r.callee_audio_seconds or 0:.1f} s"
            if r.bot_audio_seconds is not None or r.callee_audio_seconds is not None
            else None,
        ),
        ("outcome", r.outcome),
        ("grade", r.grade),
        ("opted out", "yes" if r.opted_out else None),
        ("callback", r.callback),
        ("node path", " > ".join(r.node_path) if r.node_path else None),
        ("intents", ", ".join(r.intents) if r.intents else None),
        ("recording", str(recording) if recording else None),
        ("error", r.error),
        ("completed", _time(r.completed_at) or "no: the record is not complete yet"),
    ]
    lines = [f"call {r.id}"]
    lines += [f"  {name:<12} {value}" for name, value in rows if value not in (None, "")]
    for q in inspections:  # voicebot.store.quality.QaResult
        lines.append(f"inspection ({q.rubric}): {q.score:g}/{q.total:g} {'pass' if q.passed else 'FAIL'}")
        for f in q.findings:
            if f.get("met") is False:
                lost = "fatal" if f.get("fatal") else f"-{f.get('points_lost', 0):g}"
                lines.append(
                    f"  {lost:>6} {f.get('title')}: {'; '.join(f.get('evidence') or [])}".rstrip(": ")
                )
    if r.transcript:
        lines += ["transcript (media seconds)", *transcript_lines(r)]
    if events:
        lines.append("events")
        start = events[0].at
        for e in events:
            data = json.dumps(e.data, ensure_ascii=False, default=str) if e.data else ""
            lines.append(f"  +{(e.at - start).total_seconds():7.2f}s {e.kind:<16} {data}".rstrip())
    return "\n".join(lines)


def _time(at: datetime | None) -> str | None:
    return at.strftime("%Y-%m-%d %H:%M:%S %Z") if at else None
