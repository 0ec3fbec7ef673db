"""The links to the PBX a worker or the console opens, built from their settings."""

from __future__ import annotations

from dataclasses import dataclass

from voicebot.config_pbx import AmiSettings, EslSettings
from voicebot.telephony.ami import AmiClient
from voicebot.telephony.callcenter import CALLCENTER_EVENTS, CallCenterQueues
from voicebot.telephony.esl.client import CALL_EVENTS, EslClient
from voicebot.telephony.freeswitch import FreeSwitchPbx
from voicebot.telephony.pbx import AsteriskPbx, Pbx
from voicebot.telephony.queues import AgentQueues, QueueMembers

__all__ = ["CALLCENTER_EVENTS", "CALL_EVENTS", "PbxLink", "ami_client", "esl_client", "pbx_link"]


def ami_client(s: AmiSettings) -> AmiClient:
    return AmiClient(
        s.host,
        s.port,
        s.username,
        s.secret.get_secret_value(),
        connect_timeout=s.connect_timeout,
        action_timeout=s.action_timeout,
        reconnect_max_delay=s.reconnect_max_delay,
        keepalive=s.keepalive,
    )


def esl_client(s: EslSettings) -> EslClient:
    """The event socket, hearing the calls' events and the agents' queues' (mod_callcenter)."""
    return EslClient(
        s.host,
        s.port,
        s.password.get_secret_value(),
        user=s.user,
        connect_timeout=s.connect_timeout,
        command_timeout=s.command_timeout,
        reconnect_max_delay=s.reconnect_max_delay,
        keepalive=s.keepalive,
        events=(*CALL_EVENTS, *CALLCENTER_EVENTS),
    )


@dataclass(frozen=True)
class PbxLink:
    """What the console needs of the PBX: the link to open and close, the calls, the queues."""

    client: AmiClient | EslClient
    pbx: Pbx
    queues: AgentQueues


def pbx_link(kind: str, ami: AmiSettings, esl: EslSettings) -> PbxLink:
    """The link for ``[pbx] kind``: AMI and app_queue, or the event socket and mod_callcenter."""
    if kind == "freeswitch":
        events = esl_client(esl)
        return PbxLink(events, FreeSwitchPbx(events), CallCenterQueues(events))
    manager = ami_client(ami)
    return PbxLink(manager, AsteriskPbx(manager), QueueMembers(manager))
