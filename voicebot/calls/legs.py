"""The PBX side of a call the bot takes over: FastAGI on Asterisk, the call socket on FreeSWITCH.

The call service answers it, bridges its audio to a media stream (which reaches the service's
``on_media`` under a media id the service gives out), and, when the bot is done, sets where a
human takes over or lets the dialplan hang up. Each PBX does these its own way; the service
sees only :class:`BotLeg`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Protocol

from voicebot.errors import AgiError, EslError, TelephonyError
from voicebot.media.stream import MediaStream
from voicebot.telephony.agi import AgiCall
from voicebot.telephony.esl.callsocket import SocketCall
from voicebot.telephony.unicast import UnicastServer


class BotLeg(Protocol):
    @property
    def call_id(self) -> str: ...

    @property
    def channel(self) -> str: ...

    @property
    def uniqueid(self) -> str: ...

    @property
    def caller_id(self) -> str: ...

    @property
    def lead_id(self) -> str: ...

    @property
    def campaign_id(self) -> str: ...

    @property
    def machine_check(self) -> str:
        """The campaign's AMD (``hangup`` or ``message``) when voicebot must tell a machine
        itself before the bot speaks; empty when the PBX did (Asterisk's AMD) or it is off."""
        ...

    async def answer(self) -> None: ...

    async def bridge(self, media_id: str, timeout: float) -> None:
        """Connect the call's audio to a stream with id ``media_id``; return when it ends.
        Raises :class:`TelephonyError` if it never started."""
        ...

    async def set_transfer(self, target: str) -> None:
        """When the bot lets go, the dialplan hands the callee to ``target`` (a human)."""
        ...

    async def set_variable(self, name: str, value: str) -> None:
        """Set a channel variable for the dialplan (``value`` checked by the caller)."""
        ...

    async def refuse(self) -> None:
        """Hang up a call that is not voicebot's to take."""
        ...


class AgiLeg:
    """Asterisk: the FastAGI request; audio over AudioSocket (Asterisk connects to voicebot's
    server, which hands the stream to ``on_media``)."""

    def __init__(self, call: AgiCall, audiosocket_address: Callable[[], str]) -> None:
        self._call = call
        self._address = audiosocket_address
        self.call_id = call.call_id
        self.channel = call.channel
        self.uniqueid = call.uniqueid
        self.caller_id = call.caller_id
        self.lead_id = call.lead_id
        self.campaign_id = call.campaign_id
        self.machine_check = ""  # the dialplan's AMD() ran before the bot was asked

    async def answer(self) -> None:
        await self._call.command("ANSWER")

    async def bridge(self, media_id: str, timeout: float) -> None:
        # returns when the call's media ends
        await self._call.command(f"EXEC AudioSocket {media_id},{self._address()}", timeout=timeout)

    async def set_transfer(self, target: str) -> None:
        with contextlib.suppress(AgiError):
            await self._call.command(f"SET VARIABLE VOICEBOT_TRANSFER {target}")

    async def set_variable(self, name: str, value: str) -> None:
        await self._call.command(f"SET VARIABLE {name} {value}")

    async def refuse(self) -> None:
        with contextlib.suppress(AgiError):
            await self._call.command("HANGUP")


class FreeSwitchLeg:
    """FreeSWITCH: the call's outbound socket; audio over unicast UDP, its stream handed to
    ``on_media`` here, ended when the socket says the call hung up."""

    def __init__(
        self,
        call: SocketCall,
        media: UnicastServer,
        on_media: Callable[[MediaStream], Awaitable[None]],
        voicebot_ip: str,
    ) -> None:
        self._call = call
        self._media = media
        self._on_media = on_media
        self._ip = voicebot_ip
        v = call.variables
        self.call_id = call.call_id
        self.channel = call.channel
        self.uniqueid = call.uuid
        self.caller_id = call.headers.get("Caller-Caller-ID-Number") or v.get("caller_id_number", "")
        self.lead_id = v.get("VOICEBOT_LEAD", "")
        self.campaign_id = v.get("VOICEBOT_CAMPAIGN", "")
        amd = v.get("VOICEBOT_AMD", "")
        self.machine_check = amd if amd in ("hangup", "message") else ""

    async def answer(self) -> None:
        with contextlib.suppress(EslError):  # the dialplan answered it already
            await self._call.execute("answer")

    async def bridge(self, media_id: str, timeout: float) -> None:
        stream = self._media.open(media_id)
        try:
            await self._call.sendmsg(
                "unicast",
                {
                    "local-ip": self._media.pbx_host,
                    "local-port": str(stream.pbx_port),
                    "remote-ip": self._ip,
                    "remote-port": str(self._media.port),
                    "transport": "udp",
                },
            )
        except EslError as e:
            stream.ended("error")
            raise TelephonyError(f"FreeSWITCH would not stream the call's audio: {e.message}") from e

        async def hung_up() -> None:
            await self._call.hung_up.wait()
            stream.ended("eof")

        watcher = asyncio.create_task(hung_up(), name=f"hangup-{self.call_id}")
        try:
            await asyncio.wait_for(self._on_media(stream), timeout)
        finally:
            watcher.cancel()
            stream.ended("local")

    async def set_transfer(self, target: str) -> None:
        with contextlib.suppress(EslError):
            await self._call.set("VOICEBOT_TRANSFER", target)

    async def set_variable(self, name: str, value: str) -> None:
        try:
            await self._call.set(name, value)
        except EslError as e:
            raise TelephonyError(f"FreeSWITCH would not set {name}: {e.message}") from e

    async def refuse(self) -> None:
        await self._call.hangup("CALL_REJECTED")
