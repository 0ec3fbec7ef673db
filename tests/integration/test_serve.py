"""`voicebot serve` as a long-running process: calls originated by another system are taken,
recorded and completed; SIGTERM stops it cleanly."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
import uuid

import pytest

from voicebot.store import Store
from voicebot.telephony.ami import AmiClient

pytestmark = pytest.mark.asterisk


async def test_serve_takes_external_calls_and_stops_on_sigterm(lab, cli_env):
    env = {**cli_env, "VOICEBOT_CALL__ADOPT_EXTERNAL": "true"}  # off by default
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "voicebot",
        "serve",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        line = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
        agi_port = re.search(r"FastAGI 127.0.0.1:(\d+)", line).group(1)
        # another dialer (here: a bare AMI client) sends a call into voicebot-outbound
        ami = AmiClient("127.0.0.1", 5038, "voicebot", lab.secret)
        await ami.connect()
        call_id = str(uuid.uuid4())
        await ami.action(
            {
                "Action": "Originate",
                "Channel": "Local/play-hello@voicebot-lab/n",
                "Context": "voicebot-outbound",
                "Exten": "s",
                "Priority": "1",
                "Async": "true",
                "Variable": [
                    f"VOICEBOT_CALL_ID={call_id}",
                    f"VOICEBOT_AGI=127.0.0.1:{agi_port}",
                    "VOICEBOT_LEAD=L9",
                ],
            },
            as_list=True,
            timeout=20,
        )
        await ami.close()
        store = Store(f"sqlite:///{env['VOICEBOT_DATA_DIR'] + '/voicebot.db'}")
        try:
            record = None
            for _ in range(300):
                await asyncio.sleep(0.1)
                record = await store.get_call(call_id)
                if record and record.completed:
                    break
        finally:
            store.close()
        assert record is not None and record.completed, record
        assert record.direction == "external" and record.lead_id == "L9"
        assert record.disposition == "answered" and record.end_reason == "bot-hangup"
        assert record.callee_audio_rms > 0.02 and record.bot_audio_seconds > 5
        assert record.hangup_cause == 16
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(proc.communicate(), 15)
    assert proc.returncode == 0, err.decode()[-2000:]
    assert b"stopping" in out
    assert b"Traceback" not in err
