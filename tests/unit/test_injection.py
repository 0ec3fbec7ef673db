"""Values that reach Asterisk cannot carry a second command (issue 10, section 3).

A newline in a flow's ``transfer:`` became a second AGI command (``EXEC System ...``); CR/LF
in a campaign's ``machine_message`` became a second AMI action. The files refuse such values
with their line, and the AGI and AMI edges refuse any value with a control character.
"""

from __future__ import annotations

import pytest

from voicebot.campaign.definition import load_campaign
from voicebot.dialog.flow import load_flow
from voicebot.errors import AgiError, AmiActionError, ScriptError
from voicebot.telephony.agi import AgiCall
from voicebot.telephony.ami import check_values


def test_a_transfer_target_is_an_extension_name(tmp_path):
    path = tmp_path / "flow.yml"
    path.write_text(
        "script: x\ncompany: y\nstart: a\nnodes:\n  a:\n    say: hi\n"
        '    transfer: "agents\\nEXEC System rm -rf /"\n'
    )
    with pytest.raises(ScriptError) as err:
        load_flow(path)
    assert err.value.line == 7 and "nodes.a.transfer" in str(err.value)


def test_a_machine_message_is_a_sound_name(tmp_path):
    path = tmp_path / "c.yml"
    path.write_text(
        'id: c\namd: message\nmachine_message: "beep\\r\\nAction: Command\\r\\nCommand: core stop now"\n'
    )
    with pytest.raises(ScriptError) as err:
        load_campaign(path)
    assert err.value.line == 3 and "machine_message" in str(err.value)
    path.write_text("id: c\namd: message\nmachine_message: custom/acme-callback\n")
    assert load_campaign(path).machine_message == "custom/acme-callback"


class _Request:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send_command(self, command: str) -> dict[str, str]:
        self.sent.append(command)
        return {"result": "0"}


async def test_the_agi_edge_refuses_a_second_command():
    request = _Request()
    call = AgiCall("id", "PJSIP/x", "id", "", "", "", request)  # type: ignore[arg-type]
    with pytest.raises(AgiError, match="control characters"):
        await call.command("SET VARIABLE VOICEBOT_TRANSFER agents\nEXEC System id")
    await call.command("SET VARIABLE VOICEBOT_TRANSFER agents")
    assert request.sent == ["SET VARIABLE VOICEBOT_TRANSFER agents"]


def test_the_ami_edge_refuses_a_second_action():
    with pytest.raises(AmiActionError, match="Variable holds control characters"):
        check_values({"Action": "Originate", "Variable": ["A=1", "B=x\r\nAction: Command"]})
    check_values({"Action": "Originate", "Variable": ["A=1"], "CallerID": '"王" <1>'})  # fine
