"""``voicebot doctor`` for a worker on FreeSWITCH ([pbx] kind = "freeswitch"): the event socket,
its user's rights, the modules, and a probe call that proves FreeSWITCH reaches voicebot's call
socket and exchanges audio with its unicast port."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid

from voicebot.config import Settings
from voicebot.doctor import Check
from voicebot.errors import EslActionError, VoicebotError
from voicebot.telephony.esl.callsocket import CallSocketServer, SocketCall
from voicebot.telephony.esl.client import EslClient
from voicebot.telephony.freeswitch import originate_command
from voicebot.telephony.pbx import OriginateRequest

REQUIRED_MODULES = (
    "mod_event_socket",
    "mod_commands",
    "mod_dptools",
    "mod_dialplan_xml",
    "mod_loopback",
    "mod_callcenter",
    "mod_sndfile",
    "mod_local_stream",
)
#: API commands the voicebot user must not run (shell commands, configuration, arbitrary code).
TOO_MUCH = ("system true", "eval ok", "reloadxml")


async def freeswitch_checks(settings: Settings) -> list[Check]:
    e = settings.esl
    esl = EslClient(
        e.host,
        e.port,
        e.password.get_secret_value(),
        user=e.user,
        connect_timeout=3.0,
        command_timeout=5.0,
        keepalive=0,
    )
    who = f"{e.user or 'the admin password'} at {e.host}:{e.port}"
    try:
        await esl.connect()
    except VoicebotError as error:
        return [Check("event socket login", False, error.message, error.hint or "")]
    checks = [Check("event socket login", True, who)]
    try:
        checks.append(await _rights(esl, e.user))
        checks.append(await _modules(esl))
        checks.extend(await _reachability(esl, settings))
    finally:
        await esl.close()
    return checks


async def _rights(esl: EslClient, user: str) -> Check:
    allowed = []
    for command in TOO_MUCH:
        try:
            await esl.api(command)
            allowed.append(command.split()[0])
        except EslActionError:
            continue
    if allowed:
        return Check(
            "event socket rights",
            False,
            f"{user or 'the admin login'} may run {', '.join(allowed)}",
            "log in as the least-privilege user of dialplans/freeswitch/directory/voicebot.xml "
            "(VOICEBOT_ESL__USER=voicebot@DOMAIN and its esl-password)",
        )
    return Check("event socket rights", True, "no shell, no configuration, no eval")


async def _modules(esl: EslClient) -> Check:
    listing = await esl.api("show modules", check=False)
    missing = [m for m in REQUIRED_MODULES if f",{m}," not in listing]
    if missing:
        return Check(
            "FreeSWITCH modules",
            False,
            f"not loaded: {', '.join(missing)}",
            "load them in modules.conf.xml (see dialplans/freeswitch/README.md)",
        )
    return Check("FreeSWITCH modules", True, ", ".join(REQUIRED_MODULES))


async def _reachability(esl: EslClient, settings: Settings) -> list[Check]:
    """A probe call through voicebot-outbound: FreeSWITCH must connect to the call socket port
    and stream the call's audio to the unicast port."""
    probe = str(uuid.uuid4())
    reached = asyncio.Event()
    heard = asyncio.Event()
    u = settings.unicast
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        udp.bind((u.host, u.port))
    except OSError as error:
        udp.close()
        return [
            Check(
                "unicast port",
                False,
                f"cannot bind UDP {u.host}:{u.port}: {error.strerror}",
                "stop what holds the port (voicebot serve?) or set VOICEBOT_UNICAST__PORT",
            )
        ]
    udp.setblocking(False)
    loop = asyncio.get_running_loop()

    async def on_call(call: SocketCall) -> None:
        if call.call_id != probe:
            return
        reached.set()
        ip = u.advertise or ("127.0.0.1" if u.host in ("0.0.0.0", "::", "") else u.host)
        with contextlib.suppress(VoicebotError):
            await call.sendmsg(
                "unicast",
                {
                    "local-ip": settings.esl.host,
                    "local-port": str(u.pbx_ports_from + u.pbx_ports - 1),
                    "remote-ip": ip,
                    "remote-port": str(udp.getsockname()[1]),
                    "transport": "udp",
                },
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(loop.sock_recv(udp, 4096), 3)
                heard.set()
            await call.hangup()

    server = CallSocketServer(settings.callsocket.host, settings.callsocket.port, on_call)
    try:
        await server.start()
    except VoicebotError as error:
        udp.close()
        return [Check("call socket port", False, error.message, error.hint or "")]
    address = settings.callsocket.address(server.port)
    try:
        request = OriginateRequest(
            probe,
            "loopback/answer/voicebot-doctor",
            settings.dial.context,
            settings.dial.exten,
            ring_timeout=5,
            variables={"VOICEBOT_CALL_ID": probe, "VOICEBOT_SOCKET": address},
        )
        with contextlib.suppress(VoicebotError):
            job = await esl.bgapi(originate_command(request))
            with contextlib.suppress(TimeoutError, VoicebotError):
                await asyncio.wait_for(job, 6)
        for event in (reached, heard):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), 6)
    finally:
        await server.close()
        udp.close()
    out: list[Check] = []
    if reached.is_set():
        out.append(Check("call socket port", True, f"FreeSWITCH reached {address}"))
    else:
        out.append(
            Check(
                "call socket port",
                False,
                f"FreeSWITCH did not connect to {address}",
                "load dialplans/freeswitch/dialplan/voicebot.xml (voicebot-outbound, voicebot-doctor); "
                f"make {address} reachable from FreeSWITCH, or set VOICEBOT_CALLSOCKET__ADVERTISE",
            )
        )
    if heard.is_set():
        out.append(Check("unicast port", True, "FreeSWITCH streamed a call's audio to voicebot"))
    else:
        out.append(
            Check(
                "unicast port",
                False,
                "no call audio arrived over unicast",
                "make voicebot's UDP port reachable from FreeSWITCH and its ports "
                f"{u.pbx_ports_from}-{u.pbx_ports_from + u.pbx_ports - 1} free there; "
                "or set VOICEBOT_UNICAST__ADVERTISE to voicebot's IP as FreeSWITCH sees it",
            )
        )
    return out
