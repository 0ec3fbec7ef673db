"""Record real AMI exchanges for the replay tests: one file per lab callee.

    set -a; eval "$(scripts/pbx.sh env)"; set +a
    .venv/bin/python tests/tools/record_ami.py busy congestion noanswer invalid silent

Each file holds, in arrival order, the AMI messages of one Originate: its
responses (by ActionID) and every event of the call (by Linkedid).
"""

from __future__ import annotations

import asyncio
import io
import os
import sys
import uuid
from pathlib import Path

from voicebot.telephony.ami import AmiClient

OUT = Path(__file__).parents[1] / "fixtures" / "ami"
EOL = b"\r\n\r\n"


async def record(exten: str) -> None:
    stream = io.BytesIO()
    ami = AmiClient("127.0.0.1", 5038, "voicebot", os.environ["VOICEBOT_AMI__SECRET"], save_stream=stream)
    await ami.connect()
    call_id = str(uuid.uuid4())
    action = {
        "Action": "Originate",
        "Channel": f"Local/{exten}@voicebot-lab/n",
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
