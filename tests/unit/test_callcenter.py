"""mod_callcenter as the console's queues: the commands sent, the lists read, the events heard.

The replay is an exchange recorded on the real FreeSWITCH 1.10.12 (tests/tools/record_esl.py
queue); the lab twin is tests/integration/test_freeswitch_console.py."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from voicebot.errors import ConsoleError, EslActionError
from voicebot.telephony.callcenter import (
    CallCenterQueues,
    callcenter_event,
    check_contact,
    queue_summary,
    table,
)
from voicebot.telephony.esl.client import EslClient
from voicebot.telephony.esl.testing import ReplayServer
from voicebot.telephony.freeswitch import FreeSwitchPbx
from voicebot.telephony.links import CALL_EVENTS, CALLCENTER_EVENTS
from voicebot.telephony.pbx import OriginateRequest
from voicebot.telephony.queues import QueueEvent

FIXTURES = Path(__file__).parents[1] / "fixtures" / "esl"
DESK, PHONE = "voicebot-lab-desk", "loopback/phone-alice/voicebot-lab-phones"


async def test_a_recorded_queue_call_becomes_the_desk_s_events():
    server = ReplayServer(FIXTURES / "queue-desk.esl")
    port = await server.start()
    esl = EslClient(
        "127.0.0.1",
        port,
        "lab",
        user="voicebot@voicebot.lab",
        keepalive=0,
        events=(*CALL_EVENTS, *CALLCENTER_EVENTS),
    )
    pbx, queues = FreeSwitchPbx(esl), CallCenterQueues(esl, clock=lambda: 0.0)
    news: list[QueueEvent] = []
    queues.on_event(news.append)
    await esl.connect()
    try:
        await queues.join(DESK, PHONE, "Alice", paused=False)
        summary = await queues.summary(DESK)
        request = OriginateRequest(
            server.call_id,
            "loopback/silent/voicebot-lab",
            "voicebot-transfer",
            "agents",
            variables={"VOICEBOT_CALL_ID": server.call_id, "VOICEBOT_QUEUE": DESK},
        )
        await pbx.originate(request)
        for _ in range(100):
            if [e.kind for e in news][-1:] == ["completed"]:
                break
            await asyncio.sleep(0.02)
        await pbx.hangup(server.call_id)
        await queues.leave(DESK, PHONE)
    finally:
        await esl.close()
        await server.close()
    assert server.commands[1].endswith("CUSTOM callcenter::info")
    assert server.commands[2:9] == [
        f"api callcenter_config agent add {PHONE} callback",
        f"api callcenter_config agent set contact {PHONE} {PHONE}",
        f"api callcenter_config agent set status {PHONE} 'Available'",
        f"api callcenter_config tier add {DESK} {PHONE} 1 1",
        "api callcenter_config queue list",
        f"api callcenter_config queue list agents {DESK}",
        f"api callcenter_config queue list members {DESK}",
    ]
    assert server.commands[-2:] == [
        f"api callcenter_config tier del {DESK} {PHONE}",
        f"api callcenter_config agent set status {PHONE} 'Logged Out'",
    ]
    assert (summary.available, summary.logged_in, summary.waiting) == (1, 1, 0)
    # the queue rang alice's phone (the callee's channel is the call), she answered, it ended
    assert [(e.kind, e.call_id, e.queue, e.interface) for e in news] == [
        ("ringing", server.call_id, DESK, PHONE),
        ("answered", server.call_id, DESK, PHONE),
        ("completed", server.call_id, DESK, PHONE),
    ]
    ringing, answered, completed = news
    assert ringing.wait_seconds is None  # mod_callcenter's offering does not say when the callee came
    assert answered.wait_seconds is not None and 0 <= answered.wait_seconds <= 3
    assert answered.ring_seconds is not None and 0 <= answered.ring_seconds <= 3  # the phone rings 1 s
    assert completed.talk_seconds is not None and 2 <= completed.talk_seconds <= 5  # hung up 3 s on


def test_lists_are_read_by_their_header_and_a_caller_name_with_a_bar_keeps_the_columns():
    body = (
        "queue|instance_id|uuid|session_uuid|cid_number|cid_name|system_epoch|joined_epoch|"
        "rejoined_epoch|bridge_epoch|abandoned_epoch|base_score|skill_score|serving_agent|"
        "serving_system|state\n"
        "desk|single_box|m1|c1|100|Wu | Li|100|100|0|0|0|0|0|||Waiting\n"
        "desk|single_box|m2|c2|101|Zhang|100|160|0|0|0|0|0|alice|single_box|Answered\n"
        "+OK\n"
    )
    from voicebot.telephony.callcenter import MEMBER_TAIL

    rows = table(body, tail=MEMBER_TAIL)
    assert [(r["session_uuid"], r["joined_epoch"], r["state"]) for r in rows] == [
        ("c1", "100", "Waiting"),
        ("c2", "160", "Answered"),
    ]
    agents = [
        {"name": "a", "status": "Available", "state": "Waiting"},
        {"name": "b", "status": "Available", "state": "In a queue call"},
        {"name": "c", "status": "On Break", "state": "Waiting"},
        {"name": "d", "status": "Logged Out", "state": "Waiting"},
        {"name": "e", "status": "Available (On Demand)", "state": "Waiting"},
    ]
    summary = queue_summary("desk", agents, rows, now=130.0)
    # available: logged in, not on a break, waiting for a call; a caller waiting 30 s
    assert (summary.available, summary.logged_in, summary.waiting, summary.longest_wait) == (2, 4, 1, 30.0)
    assert table("+OK\n") == []


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        # the callee left the queue unanswered after 12 s: abandoned
        (
            {"CC-Action": "member-queue-end", "CC-Cause": "Cancel", "CC-Cancel-Reason": "BREAK_OUT"}
            | {"CC-Member-Joined-Time": "100", "CC-Member-Leaving-Time": "112"},
            QueueEvent("abandoned", "c1", "desk", wait_seconds=12.0),
        ),
        # an answered member's end is the agent's completed call, not an abandon
        ({"CC-Action": "member-queue-end", "CC-Cause": "Terminated"}, None),
        # the agent's phone did not answer: rang 15 s
        (
            {"CC-Action": "bridge-agent-fail", "CC-Agent": "user/1001@pbx", "CC-Hangup-Cause": "NO_ANSWER"}
            | {"CC-Agent-Called-Time": "200", "CC-Agent-Aborted-Time": "215"},
            QueueEvent("no_answer", "c1", "desk", "user/1001@pbx", ring_seconds=15.0),
        ),
        # the callee left the queue while the phone rang: not the agent's no-answer
        (
            {
                "CC-Action": "bridge-agent-fail",
                "CC-Agent": "user/1001@pbx",
                "CC-Hangup-Cause": "ORIGINATOR_CANCEL",
            }
            | {"CC-Agent-Called-Time": "200", "CC-Agent-Aborted-Time": "208"},
            QueueEvent("abandoned", "c1", "desk", "user/1001@pbx"),
        ),
        # the agent's own status changes are not calls
        ({"CC-Action": "agent-status-change", "CC-Agent": "user/1001@pbx"}, None),
    ],
)
def test_events_of_the_queue(headers, expected):
    base = {"Event-Subclass": "callcenter::info", "CC-Queue": "desk", "CC-Member-Session-UUID": "c1"}
    assert callcenter_event(base | headers) == expected


def test_another_module_s_event_or_one_without_a_call_is_not_a_queue_event():
    assert (
        callcenter_event({"Event-Subclass": "conference::maintenance", "CC-Action": "agent-offering"}) is None
    )
    assert callcenter_event({"Event-Subclass": "callcenter::info", "CC-Action": "agent-offering"}) is None


@pytest.mark.parametrize(
    "contact",
    [
        "user/1001@pbx.example.com",
        "sofia/gateway/trunk/13800000000",
        "loopback/phone-alice/voicebot-lab-phones",
    ],
)
def test_phones_freeswitch_can_ring_are_agents(contact):
    assert check_contact(contact) == contact


@pytest.mark.parametrize(
    "contact",
    [
        "user/1001 'Available'",  # a space would be a new callcenter_config argument
        "{ignore_early_media=true}user/1001",  # originate variables are not the console's to set
        "user/1001,user/1002",
        "PJSIP/agent101",  # Asterisk's, not FreeSWITCH's
        "user/1001\napi system",
        "",
    ],
)
def test_anything_else_is_refused_before_it_reaches_freeswitch(contact):
    with pytest.raises(ConsoleError):
        check_contact(contact)


class _Refusing:
    """An event socket whose callcenter_config says what FreeSWITCH says to a repeated step."""

    connected = True

    def __init__(self, answers: dict[str, str]) -> None:
        self.answers = answers
        self.sent: list[str] = []

    async def api(self, line: str, *, check: bool = True) -> str:
        self.sent.append(line)
        for start, answer in self.answers.items():
            if line.startswith(start):
                return answer
        return "+OK\n"


async def test_joining_twice_is_no_error_and_other_refusals_are():
    esl = _Refusing(
        {
            "callcenter_config agent add": "-ERR Agent already exist!\n",
            "callcenter_config tier add": "-ERR Tier already exist!\n",
        }
    )
    queues = CallCenterQueues(esl)  # type: ignore[arg-type]
    await queues.join("desk", "user/1001@pbx", "Ann", paused=True, reason="lunch")
    assert esl.sent[2] == "callcenter_config agent set status user/1001@pbx 'On Break'"
    esl.answers = {"callcenter_config agent set status": "-ERR Invalid Agent!\n"}
    with pytest.raises(EslActionError, match="Invalid Agent"):
        await queues.pause("desk", "user/1001@pbx", paused=False)
    # leaving: an agent FreeSWITCH no longer has is gone already
    esl.answers = {"callcenter_config agent set status": "-ERR Agent not found!\n"}
    await queues.leave("desk", "user/1001@pbx")
    esl.answers = {"callcenter_config queue list": "+OK\n"}
    with pytest.raises(ConsoleError, match="no queue"):
        await queues.summary("desk")
