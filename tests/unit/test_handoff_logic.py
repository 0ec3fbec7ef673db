"""The warm transfer's pure parts: the whisper's words, the agent's keys during it (over the
in-memory stream; the AudioSocket twin is tests/integration/test_handoff.py), the record of a
call the bot took back, and a script's no_agent entry."""

from __future__ import annotations

import asyncio

from tests.unit.test_script import ROOT
from voicebot.calls.context import ScriptResult, TurnRecord
from voicebot.calls.handoff import merged, whisper_session
from voicebot.calls.session import SessionResult
from voicebot.calls.whisper import whisper_text
from voicebot.dialog.flow import load_flow
from voicebot.dialog.script import ScheduleCallback, Script, Started, State, Understood
from voicebot.media import audio
from voicebot.media.fake import FakeMediaStream


def test_the_whisper_says_who_the_grade_and_their_last_words():
    text = whisper_text(name="Li Lei", grade="A", said="Yes please, put me through.")
    assert text == "Transfer: Li Lei, grade A, said: Yes please, put me through.. Press 2 to decline."
    assert whisper_text(name="", grade=None, said="").startswith("Transfer: a caller.")
    zh = whisper_text(name="王芳", grade="B", said="好的，转人工吧", chinese=True)
    assert "王芳" in zh and "等级B" in zh and zh.endswith("按2拒接。")
    long = whisper_text(name="x", grade="A", said="word " * 100)
    assert len(long) < 200 and "…" in long


async def test_a_2_during_the_whisper_declines_and_silence_accepts():
    stream = FakeMediaStream(speed=20.0)
    pcm = audio.tone(440, 2.0)
    stream.press("2")
    assert await whisper_session(stream, pcm, window=1.0) == "decline"
    assert stream.hung_up  # AudioSocket returns: the gosub hangs up the agent's leg

    quiet = FakeMediaStream(speed=20.0)
    assert await asyncio.wait_for(whisper_session(quiet, audio.tone(440, 0.2), window=0.1), 5) == "accept"
    assert quiet.played and quiet.hung_up

    keen = FakeMediaStream(speed=20.0)
    keen.press("1")
    assert await whisper_session(keen, pcm, window=5.0) == "accept"


def session(turns, *, started, ended, script):
    return SessionResult("bot-hangup", None, started, ended, 3.0, 2.0, 0.1, tuple(turns), script)


def test_a_call_taken_back_keeps_both_conversations():
    first = session(
        [TurnRecord("bot", "Hello", 0.0, 2.0), TurnRecord("callee", "put me through", 3.0, 4.0)],
        started=100.0,
        ended=110.0,
        script=ScriptResult(
            outcome="transferred",
            transfer_to="agents",
            node_path=["opening", "transfer"],
            intents=["interested"],
            grade="A",
        ),
    )
    second = session(
        [TurnRecord("bot", "Sorry, all busy", 0.0, 3.0), TurnRecord("callee", "yes", 4.0, 4.5)],
        started=500.0,
        ended=506.0,
        script=ScriptResult(
            outcome="callback",
            callback="unspecified",
            node_path=["no_agent", "no_agent_callback"],
            intents=["affirm"],
        ),
    )
    both = merged(first, second)
    assert [t.text for t in both.turns] == ["Hello", "put me through", "Sorry, all busy", "yes"]
    assert both.turns[2].start == 10.0 and both.turns[3].end == 14.5  # after the first session's 10 s
    assert both.script.outcome == "callback" and both.script.transfer_to is None
    assert both.script.callback == "unspecified" and both.script.grade == "A"
    assert both.script.node_path == ["opening", "transfer", "no_agent", "no_agent_callback"]
    assert both.bot_audio_seconds == 6.0 and both.started == 100.0 and both.ended == 506.0
    assert merged(None, second) is second


def test_the_sample_script_takes_a_callee_back_and_schedules_the_callback():
    flow, _ = load_flow(ROOT / "intents/broadband-en/flow.yml")
    script = Script(flow)
    state, actions = script.step(State(), Started(at=0.0, node="no_agent"))
    assert state.path == ("no_agent",) and "busy" in actions[0].say.text[0]
    state, actions = script.step(state, Understood("affirm", "yes please", 0.9, {}, at=5.0))
    assert state.path[-1] == "no_agent_callback" and state.disposition == "callback"
    assert state.callback == "" and any(isinstance(a, ScheduleCallback) for a in actions)
