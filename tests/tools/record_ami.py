"""Record real AMI exchanges for the replay tests: one file per lab callee.

    set -a; eval "$(scripts/pbx.sh env)"; set +a
    .venv/bin/python tests/tools/record_ami.py busy congestion noanswer invalid silent
    .venv/bin/python tests/tools/record_ami.py sip-403 sip-603 sip-503   # over the lab carrier

A ``sip-STATUS`` call goes out over the lab's SIP trunk (PJSIP/...@carrier) to SIPp, which
refuses it with that status (dialplans/asterisk/lab/sipp/refuse.xml).

Each file holds, in arrival order, the AMI messages of one Originate: its
responses (by ActionID) and every event of the call (by Linkedid).
"""

from __future__ import annotations

import asyncio
import io
import os
import sys
import tempfile
import uuid
from pathlib import Path

from voicebot.telephony.ami import AmiClient

SCENARIO = Path(__file__).parents[2] / "dialplans/asterisk/lab/sipp/refuse.xml"
REASONS = {"403": "Forbidden", "603": "Decline", "503": "Service Unavailable", "486": "Busy Here"}

OUT = Path(__file__).parents[1] / "fixtures" / "ami"
EOL = b"\r\n\r\n"


async def record(exten: str) -> None:
    if exten.startswith("sip-"):
        status = exten.removeprefix("sip-")
        scenario = Path(tempfile.mkdtemp()) / "refuse.xml"
        text = SCENARIO.read_text().replace("[status]", status).replace("[reason]", REASONS[status])
        scenario.write_text(text)
        args = ["sipp", "-sf", str(scenario), "-i", "127.0.0.1", "-p", "5070", "-nostdin", "-m", "1"]
        sipp = await asyncio.create_subprocess_exec(
            *args, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
        )
        await asyncio.sleep(0.3)
        try:
            await _record(exten, "PJSIP/13800138000@carrier")
        finally:
            sipp.kill()
            await sipp.wait()
    else:
        await _record(exten, f"Local/{exten}@voicebot-lab/n")


async def _record(exten: str, channel: str) -> None:
    stream = io.BytesIO()
    ami = AmiClient("127.0.0.1", 5038, "voicebot", os.environ["VOICEBOT_AMI__SECRET"], save_stream=stream)
    await ami.connect()
    call_id = str(uuid.uuid4())
    action = {
        "Action": "Originate",
        "Channel": channel,
        "Context": "voicebot-outbound",
        "Exten": "s",
        "Priority": "1",
        "Async": "true",
        "Timeout": "3000",
        "ChannelId": call_id,
        # no FastAGI listens on port 9: an answered call fails into Hangup() at once
        "Variable": [f"VOICEBOT_CALL_ID={call_id}", "VOICEBOT_AGI=127.0.0.1:9"],
    }
    future = ami.send_nowait(action)
    await asyncio.wait_for(future, 20)
    await asyncio.sleep(1.0)
    await ami.close()
    action_id = future_action_id(stream.getvalue())
    kept = []
    for block in stream.getvalue().split(EOL):
        text = block.decode().strip()
        if not text or text.startswith("Asterisk Call Manager"):
            continue
        if f"Linkedid: {call_id}" in text or (action_id and f"ActionID: {action_id}" in text):
            kept.append(text)
    path = OUT / f"originate-{exten}.txt"
    header = f"# call_id: {call_id}\n# channel: {action['Channel']}\n"
    path.write_text(header + "\n\n".join(kept).replace("\r\n", "\n") + "\n")
    print(f"{path}: {len(kept)} messages")


def future_action_id(raw: bytes) -> str | None:
    for block in raw.split(EOL):
        text = block.decode()
        if "Originate successfully queued" in text:
            for line in text.splitlines():
                if line.startswith("ActionID: "):
                    return line.removeprefix("ActionID: ")
    return None


async def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for exten in sys.argv[1:]:
        await record(exten)


if __name__ == "__main__":
    asyncio.run(main())
