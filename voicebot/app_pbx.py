"""The App's side of the PBX: the servers each kind of PBX connects to, and where it finds the
bot for a call (a part of :class:`voicebot.app.App`)."""

from __future__ import annotations

import logging
import re

from voicebot.calls.legs import AgiLeg, FreeSwitchLeg
from voicebot.calls.service import CallService
from voicebot.config import Settings
from voicebot.errors import VoicebotError
from voicebot.telephony.agi import BACK_ROUTE, INBOUND_ROUTE, WHISPER_ROUTE, AgiCall, AgiServer
from voicebot.telephony.ami import AmiClient
from voicebot.telephony.audiosocket.server import AudioSocketServer
from voicebot.telephony.esl.callsocket import CallSocketServer, SocketCall
from voicebot.telephony.esl.client import EslClient
from voicebot.telephony.freeswitch import FreeSwitchPbx
from voicebot.telephony.pbx import AsteriskPbx
from voicebot.telephony.peers import PeerFilter
from voicebot.telephony.queues import AgentQueues
from voicebot.telephony.unicast import UnicastServer

log = logging.getLogger(__name__)
#: The FreeSWITCH global voicebot-inbound reads for voicebot's call socket (host:port).
SOCKET_GLOBAL = "VOICEBOT_SOCKET"


class PbxSide:
    settings: Settings
    calls: CallService | None
    ami: AmiClient
    esl: EslClient | None
    pbx: AsteriskPbx | FreeSwitchPbx
    queues: AgentQueues
    agi: AgiServer | None
    audiosocket: AudioSocketServer | None
    callsocket: CallSocketServer | None
    unicast: UnicastServer | None

    async def _start_asterisk(self) -> None:
        assert self.calls is not None
        settings = self.settings
        pbx = settings.pbx.addresses, settings.ami.host
        self.audiosocket = AudioSocketServer(
            settings.audiosocket.host,
            settings.audiosocket.port,
            self.calls.on_media,
            peers=PeerFilter.of(*pbx, server="AudioSocket"),
        )
        self.agi = AgiServer(
            settings.agi.host,
            settings.agi.port,
            self._on_agi,
            on_machine=self.calls.on_machine,
            routes={
                WHISPER_ROUTE: self.calls.on_whisper,
                BACK_ROUTE: self.calls.on_back,
                INBOUND_ROUTE: self.calls.on_inbound,
            },
            peers=PeerFilter.of(*pbx, server="FastAGI"),
        )
        await self.audiosocket.start()
        await self.agi.start()
        await self.ami.connect()
        await self.pbx.start()

    async def _start_freeswitch(self) -> None:
        assert self.calls is not None and self.esl is not None
        settings = self.settings
        u = settings.unicast
        peers = PeerFilter.of(settings.pbx.addresses, settings.esl.host, server="call socket")
        pbx_host = settings.esl.host if settings.esl.host != "localhost" else "127.0.0.1"
        self.unicast = UnicastServer(
            u.host, u.port, pbx_host, range(u.pbx_ports_from, u.pbx_ports_from + u.pbx_ports)
        )
        self.callsocket = CallSocketServer(
            settings.callsocket.host, settings.callsocket.port, self._on_call_socket, peers=peers
        )
        await self.unicast.start()
        await self.callsocket.start()
        self.queues.on_event(self.calls.on_queue_event)  # an agent answered: no take-back
        await self.esl.connect()
        await self.pbx.start()

    async def _take_back(self, call_id: str) -> None:
        """FreeSWITCH: the callee waited the campaign's agent_wait in mod_callcenter's queue
        with no agent: out of the queue, back to the bot (voicebot-transfer's back)."""
        await self.pbx.redirect(call_id, "voicebot-transfer", "back")

    async def _on_call_socket(self, call: SocketCall) -> None:
        assert self.calls is not None and self.unicast is not None
        u = self.settings.unicast
        ip = u.advertise or ("127.0.0.1" if u.host in ("0.0.0.0", "::", "") else u.host)
        leg = FreeSwitchLeg(call, self.unicast, self.calls.on_media, ip)
        route = call.variables.get("VOICEBOT_ROUTE", "")
        if route == "back":  # voicebot moved it out of the queue
            await self.calls.on_back_leg(leg)
        elif route == "inbound":  # a callee calling back (voicebot-inbound)
            await self.calls.on_inbound_leg(leg, call.variables.get("VOICEBOT_DIALED", ""))
        else:
            await self.calls.on_bot(leg)

    async def _announce_socket(self) -> None:
        """Tell FreeSWITCH where inbound calls find this worker's call socket (the global
        VOICEBOT_SOCKET, which voicebot-inbound reads): at start and after every reconnect."""
        assert self.esl is not None
        address = self._bot_variables()["VOICEBOT_SOCKET"]
        if not re.fullmatch(r"[A-Za-z0-9.:\[\]-]{1,80}", address):
            log.error("inbound calls cannot find voicebot: %r is no host:port", address)
            return
        try:
            await self.esl.api(f"global_setvar {SOCKET_GLOBAL}={address}")
        except VoicebotError as e:
            log.error("inbound calls cannot find voicebot: %s not set on FreeSWITCH (%s)", SOCKET_GLOBAL, e)

    def _bot_variables(self) -> dict[str, str]:
        """Where the PBX finds the bot for a call: FastAGI, or FreeSWITCH's call socket."""
        s = self.settings
        if self.esl is not None:
            return {
                "VOICEBOT_SOCKET": s.callsocket.address(self.callsocket.port if self.callsocket else None)
            }
        return {"VOICEBOT_AGI": s.agi.address(self.agi.port if self.agi else None)}

    async def _on_agi(self, call: AgiCall) -> None:
        assert self.calls is not None
        settings = self.settings
        await self.calls.on_bot(
            AgiLeg(
                call,
                lambda: settings.audiosocket.address(self.audiosocket.port if self.audiosocket else None),
            )
        )

    def _pbx_away(self) -> str | None:
        if self.esl is not None:
            if self.esl.connected:
                return None
            return "PBX away (event socket down): calls in progress go on, dialing waits for the reconnect"
        if self.ami.connected:
            return None
        return "PBX away (AMI link down): calls in progress go on, dialing waits for the reconnect"
