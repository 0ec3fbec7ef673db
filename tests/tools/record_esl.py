"""Record real event-socket exchanges for the replay tests: one file per lab callee.

    scripts/freeswitch.sh start
    .venv/bin/python tests/tools/record_esl.py busy congestion noanswer invalid drop-2 queue

``queue`` records the console's side instead (queue-desk.esl): a lab agent joins the desk queue
(callcenter_config), the queue is summed up, a call enters it and is answered by the agent's
phone and hung up 3 s later, and the agent leaves.

Each file holds every byte FreeSWITCH sent on one event-socket connection (logged in as the
voicebot user) while it originated one call to ``loopback/<callee>/voicebot-lab`` (the caller's
side goes to ``silent`` in voicebot-lab), from the auth request to a second after the call
ended. A header line names the call id. Record with no other call in the lab.
"""

from __future__ import annotations

import asyncio
import io
import sys
import uuid
from pathlib import Path

from voicebot.telephony.callcenter import CallCenterQueues
from voicebot.telephony.esl.client import EslClient
from voicebot.telephony.freeswitch import FreeSwitchPbx
from voicebot.telephony.links import CALL_EVENTS, CALLCENTER_EVENTS
from voicebot.telephony.pbx import OriginateRequest
from voicebot.telephony.queues import QueueEvent

LAB = Path("/var/lib/voicebot-lab/freeswitch")
OUT = Path(__file__).parents[1] / "fixtures" / "esl"


async def record(callee: str) -> None:
    stream = io.BytesIO()
    esl = EslClient(
        "127.0.0.1",
        8021,
        (LAB / "esl.secret").read_text().strip(),
        user="voicebot@voicebot.lab",
        save_stream=stream,
        keepalive=0,
    )
    pbx = FreeSwitchPbx(esl)
    await esl.connect()
    call_id = str(uuid.uuid4())
    request = OriginateRequest(
        call_id, f"loopback/{callee}/voicebot-lab", "voicebot-lab", "silent", ring_timeout=3
    )
    handle = await pbx.originate(request)
    progress = await handle.wait_settled(timeout=30)
    await asyncio.sleep(1.0)
    await esl.close()
    path = OUT / f"originate-{callee}.esl"
    path.write_bytes(f"# call_id: {call_id}\n".encode() + stream.getvalue())
    print(f"{path}: {len(stream.getvalue())} bytes, {progress.disposition.value}, cause {progress.cause}")


DESK, PHONE = "voicebot-lab-desk", "loopback/phone-alice/voicebot-lab-phones"


async def record_queue() -> None:
    stream = io.BytesIO()
    esl = EslClient(
        "127.0.0.1",
        8021,
        (LAB / "esl.secret").read_text().strip(),
        user="voicebot@voicebot.lab",
        save_stream=stream,
        keepalive=0,
        events=(*CALL_EVENTS, *CALLCENTER_EVENTS),
    )
    pbx, queues = FreeSwitchPbx(esl), CallCenterQueues(esl)
    news: list[QueueEvent] = []
    answered = asyncio.Event()

    def heard(event: QueueEvent) -> None:
        news.append(event)
        if event.kind == "answered":
            answered.set()

    queues.on_event(heard)
    await esl.connect()
    await queues.join(DESK, PHONE, "Alice", paused=False)
    summary = await queues.summary(DESK)
    call_id = str(uuid.uuid4())
    request = OriginateRequest(
        call_id,
        "loopback/silent/voicebot-lab",
        "voicebot-transfer",
        "agents",
        ring_timeout=5,
        variables={"VOICEBOT_CALL_ID": call_id, "VOICEBOT_QUEUE": DESK},
    )
    handle = await pbx.originate(request)
    await asyncio.wait_for(answered.wait(), 20)
    await asyncio.sleep(3.0)
    await pbx.hangup(call_id)
    await handle.wait_settled(timeout=10)
    await asyncio.sleep(1.0)
    await queues.leave(DESK, PHONE)
    await esl.close()
    path = OUT / "queue-desk.esl"
    path.write_bytes(f"# call_id: {call_id}\n".encode() + stream.getvalue())
    print(f"{path}: {len(stream.getvalue())} bytes, {summary}, {[e.kind for e in news]}")


async def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for callee in sys.argv[1:]:
        await (record_queue() if callee == "queue" else record(callee))


if __name__ == "__main__":
    asyncio.run(main())
