"""Following calls on the real lab FreeSWITCH over its event socket: dispositions with their
causes, the voicebot user's narrow rights, and a dropped or frozen event socket mid-call."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from tests.integration.conftest import TcpProxy
from voicebot.errors import EslActionError
from voicebot.telephony.callstate import CallState, Disposition
from voicebot.telephony.esl.client import EslClient
from voicebot.telephony.freeswitch import FreeSwitchPbx
from voicebot.telephony.pbx import OriginateRequest


@pytest.fixture
async def pbx(freeswitch) -> AsyncIterator[FreeSwitchPbx]:
    esl = EslClient("127.0.0.1", freeswitch.port, freeswitch.password, user=freeswitch.user)
    pbx = FreeSwitchPbx(esl)
    await esl.connect()
    await pbx.start()
    yield pbx
    await esl.close()


def _call(callee: str, ring_timeout: float = 3) -> OriginateRequest:
    # the caller's side waits in silence; the callee is the lab's (dialplans/freeswitch/lab)
    return OriginateRequest(
        str(uuid.uuid4()),
        f"loopback/{callee}/voicebot-lab",
        "voicebot-lab",
        "silent",
        ring_timeout=ring_timeout,
    )


@pytest.mark.parametrize(
    ("callee", "expected", "cause"),
    [
        ("busy", Disposition.BUSY, 17),
        ("noanswer", Disposition.NO_ANSWER, 19),
        ("invalid", Disposition.INVALID, 1),
        ("congestion", Disposition.CONGESTION, 34),
        ("drop-1", Disposition.ANSWERED, 16),
    ],
)
async def test_a_call_ends_with_the_disposition_and_cause_freeswitch_gives(
    pbx, freeswitch, callee, expected, cause
):
    handle = await pbx.originate(_call(callee))
    progress = await handle.wait_settled(timeout=20)
    assert progress.state is CallState.HUNGUP
    assert progress.disposition is expected, progress
    assert progress.cause == cause
    assert progress.channel == f"loopback/{callee}-a"
    if expected is Disposition.ANSWERED:
        assert progress.talk_seconds is not None and 0.5 < progress.talk_seconds < 3
    # nothing of the call is left on the PBX (a no answer's ringing callee included)
    await asyncio.sleep(0.5)
    assert handle.call_id not in freeswitch.cli("show channels")


async def test_the_voicebot_user_may_follow_calls_and_nothing_more(pbx):
    assert "UP" in await pbx.esl.api("status")
    for forbidden in ("system id", "reloadxml", "load mod_shout", "bgapi system id", "eval ${system(id)}"):
        with pytest.raises(EslActionError, match="permission denied"):
            await pbx.esl.api(forbidden)


async def test_a_call_outlives_a_dropped_event_socket_and_is_found_after(freeswitch):
    proxy = TcpProxy(freeswitch.port)
    await proxy.start()
    esl = EslClient("127.0.0.1", proxy.port, freeswitch.password, user=freeswitch.user, keepalive=1.0)
    pbx = FreeSwitchPbx(esl)
    await esl.connect()
    await pbx.start()
    try:
        handle = await pbx.originate(_call("silent"))
        for _ in range(50):
            if handle.progress.answered_at is not None:
                break
            await asyncio.sleep(0.1)
        assert handle.progress.state is CallState.ANSWERED
        proxy.cut()
        await asyncio.sleep(0.3)
        await esl.wait_connected(10)
        await asyncio.sleep(0.5)  # reconcile ran: the call is still up, not taken for ended
        assert handle.progress.state is CallState.ANSWERED
        assert await pbx.find(handle.call_id) == handle.call_id
        # a frozen link (open, silent) is found by the keepalive and replaced
        reconnects = esl.reconnects
        proxy.freeze()
        await asyncio.sleep(2.5)
        proxy.thaw()
        await esl.wait_connected(10)
        assert esl.reconnects > reconnects
        await pbx.hangup(handle.call_id)
        progress = await handle.wait_settled(timeout=10)
        assert progress.disposition is Disposition.ANSWERED and progress.cause == 16
    finally:
        await esl.close()
        await proxy.close()
