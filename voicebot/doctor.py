"""``voicebot doctor``: is this machine ready to run calls? Each check says how to fix it."""

from __future__ import annotations

import asyncio
import contextlib
import re
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from voicebot.config import Settings
from voicebot.errors import VoicebotError
from voicebot.speech import models
from voicebot.store import Store
from voicebot.telephony.ami import AmiClient
from voicebot.telephony.audiosocket.codec import Frame, FrameDecoder, FrameType, encode
from voicebot.telephony.rtpconf import SESSIONS_PER_CALL, parse_rtp_conf

REQUIRED_MODULES = (
    "pbx_config.so",
    "res_agi.so",
    "app_audiosocket.so",
    "res_audiosocket.so",
    "chan_audiosocket.so",
    "app_mixmonitor.so",
    "app_queue.so",
    "func_uuid.so",
    "func_module.so",  # IFMODULE and DIALPLAN_EXISTS let doctor check the PBX with the serve user's
    "func_dialplan.so",  # least privileges (no 'system', no 'command')
)
REQUIRED_CONTEXTS = (
    "voicebot-outbound",
    "voicebot-transfer",
    "voicebot-whisper",
    "voicebot-preview",
    "voicebot-inbound",
    "voicebot-doctor",
)
#: Write classes the serve user must not have: 'system' runs shell commands through Originate,
#: 'command' runs any CLI command.
TOO_MUCH = (("command", {"Action": "Command", "Command": "core show version"}),)
#: Needed only by campaigns with answering machine detection.
AMD_MODULES = ("app_amd.so", "app_waitforsilence.so")


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str
    hint: str = ""


async def run_checks(settings: Settings) -> list[Check]:
    checks = [_data_dir(settings), await asyncio.to_thread(_database, settings), _speech(settings)]
    campaigns, uses_amd = await asyncio.to_thread(_campaigns, settings)
    if campaigns is not None:
        checks.append(campaigns)
    if settings.pbx.kind == "freeswitch":
        from voicebot.doctor_freeswitch import freeswitch_checks

        return checks + await freeswitch_checks(settings)
    ami = AmiClient(
        settings.ami.host,
        settings.ami.port,
        settings.ami.username,
        settings.ami.secret.get_secret_value(),
        connect_timeout=3.0,
        action_timeout=5.0,
    )
    try:
        await ami.connect()
    except VoicebotError as e:
        checks.append(Check("AMI login", False, e.message, e.hint or ""))
        return checks
    try:
        checks.append(
            Check("AMI login", True, f"{settings.ami.username}@{settings.ami.host}:{settings.ami.port}")
        )
        checks.append(await _privileges(ami, settings.ami.username))
        checks.append(await _modules(ami))
        if uses_amd:
            checks.append(await _modules(ami, AMD_MODULES, "AMD modules"))
        checks.append(await _contexts(ami, (settings.dial.context, *REQUIRED_CONTEXTS[1:])))
        trunks = await _trunks(ami, settings)
        if trunks is not None:
            checks.append(trunks)
            checks.append(await asyncio.to_thread(_rtp_ports, settings))
        checks.extend(await _reachability(ami, settings))
    finally:
        await ami.close()
    return checks


def _data_dir(settings: Settings) -> Check:
    path = settings.data_dir
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path):
            pass
    except OSError as e:
        return Check(
            "data directory",
            False,
            f"{path}: {e.strerror}",
            "set VOICEBOT_DATA_DIR to a writable directory, or fix its permissions",
        )
    return Check("data directory", True, str(path))


def _database(settings: Settings) -> Check:
    try:
        store = Store(settings.db_url)
        try:
            current, head = store.revision()
        finally:
            store.close()
    except VoicebotError as e:
        return Check("database", False, e.message, e.hint or "check VOICEBOT_DATABASE_URL")
    if current != head:
        return Check(
            "database", False, f"schema at {current or 'none'}, needs {head}", "run: voicebot db upgrade"
        )
    return Check("database", True, f"schema {head}")


def _speech(settings: Settings) -> Check:
    sp = settings.speech
    if sp.engine == "none":
        return Check("speech model", True, "none: turns are timed, not transcribed")
    if sp.model is None:
        return Check("speech model", False, f"engine {sp.engine} has no model", "set [speech] model")
    try:
        info = models.resolve(sp.model, settings.models_dir)
    except VoicebotError as e:
        return Check("speech model", False, e.message, e.hint or "")
    if info.engine != sp.engine:
        return Check(
            "speech model",
            False,
            f"{info.name} is a {info.engine} model, engine is {sp.engine}",
            f"set [speech] engine = {info.engine!r}",
        )
    return Check("speech model", True, f"{info.engine} {info.name} ({info.path})")


def _campaigns(settings: Settings) -> tuple[Check | None, bool]:
    """Campaigns that may dial: does each one's script load and trunk exist? (None: there are none.)"""
    from voicebot.calls.scripted import LoadedScript
    from voicebot.campaign.callerid import caller_id_for
    from voicebot.campaign.definition import Campaign

    try:
        store = Store(settings.db_url)
        try:
            store.check_schema()
            infos = [c for c in store.campaigns.campaigns() if c.state in ("created", "running", "paused")]
        finally:
            store.close()
    except VoicebotError:
        return None, False  # the database check says what is wrong
    if not infos:
        return None, False
    problems = []
    uses_amd = False
    for info in infos:
        campaign = Campaign.model_validate(info.definition)
        uses_amd = uses_amd or campaign.amd != "off"
        if campaign.script is not None:
            try:
                LoadedScript.load(campaign.script, settings.speech.voice)
            except VoicebotError as e:
                problems.append(f"{campaign.id}: {e.message}")
        try:
            trunk = settings.way_out(campaign.trunk)
            caller_id_for(
                campaign.caller_id,
                default=trunk.caller_id,
                allowed=trunk.caller_ids,
                trunk=campaign.trunk or "",
                region=campaign.region,
            )
        except VoicebotError as e:
            problems.append(f"{campaign.id}: {e.message}")
    if problems:
        return Check(
            "campaigns",
            False,
            "; ".join(problems),
            "fix the script, the settings or the campaign's caller_id, then `voicebot campaign create FILE` "
            "to reload the campaign",
        ), uses_amd
    return Check(
        "campaigns", True, f"{len(infos)} campaign(s): scripts load, trunks known, caller ids assigned"
    ), uses_amd


async def _privileges(ami: AmiClient, username: str) -> Check:
    """The serve user may originate and follow calls, and nothing that reaches a shell."""
    extra = [name for name, probe in TOO_MUCH if await ami.may(probe)]
    if extra:
        return Check(
            "AMI privileges",
            False,
            f"{username} may use {', '.join(extra)}: a campaign author could reach a shell on the PBX",
            "write = call,originate,reporting,agent (dialplans/asterisk/manager_voicebot.conf.template), "
            "then 'manager reload'",
        )
    # the console's agents join and pause queues: the 'agent' write class. A pause of an interface
    # in no queue is harmless: "Interface not found" when permitted, "Permission denied" when not.
    probe = {"Action": "QueuePause", "Interface": "Local/voicebot-doctor@none/n", "Paused": "false"}
    if not await ami.may(probe):
        return Check(
            "AMI privileges",
            False,
            f"{username} may not add agents to queues (write class 'agent'): the console cannot "
            "make an agent ready",
            "write = call,originate,reporting,agent (dialplans/asterisk/manager_voicebot.conf.template), "
            "then 'manager reload'",
        )
    return Check("AMI privileges", True, f"{username}: queues for agents; no command or system rights")


async def _modules(
    ami: AmiClient, modules: tuple[str, ...] = REQUIRED_MODULES, name: str = "Asterisk modules"
) -> Check:
    if await ami.function("IFMODULE(func_module.so)") != "1":
        return Check(name, False, "func_module.so is not loaded: cannot check the others", _MODULES_FIX)
    missing = [m for m in modules if await ami.function(f"IFMODULE({m})") != "1"]
    if missing:
        return Check(name, False, "not loaded: " + ", ".join(missing), _MODULES_FIX)
    return Check(name, True, f"{len(modules)} required modules loaded")


_MODULES_FIX = (
    "add 'load => MODULE' lines to modules.conf and restart Asterisk "
    "(res_speech.so must load before res_agi.so)"
)


#: The PJSIP endpoint a channel template dials: PJSIP/{number}@ENDPOINT or PJSIP/ENDPOINT/sip:...
_ENDPOINT = re.compile(r"PJSIP/(?:[^@/]*@(?P<at>[A-Za-z0-9_.-]+)(?:$|/)|(?P<slash>[A-Za-z0-9_.-]+)/sip:)")
_PJSIP_MODULES = ("func_pjsip_endpoint.so", "func_pjsip_aor.so", "func_pjsip_contact.so")


def trunk_endpoints(settings: Settings) -> dict[str, str]:
    """Where each way out dials: {"[dial]" or "trunks.NAME": PJSIP endpoint ("" when a PJSIP
    template names none that can be read)}. Templates of other channels are left out. Pure."""
    templates = {"[dial]": settings.dial.channel_template}
    templates |= {f"trunks.{name}": t.channel_template for name, t in settings.trunks.items()}
    found = {}
    for where, template in templates.items():
        if m := _ENDPOINT.match(template):
            found[where] = m.group("at") or m.group("slash")
        elif template.startswith("PJSIP/"):
            found[where] = ""
    return found


async def _trunks(ami: AmiClient, settings: Settings) -> Check | None:
    """Every PJSIP trunk the settings dial: its endpoint exists, and its contacts are not
    unreachable (qualify). None when no template dials PJSIP (the lab's Local callees)."""
    endpoints = trunk_endpoints(settings)
    if not endpoints:
        return None
    missing_modules = [m for m in _PJSIP_MODULES if await ami.function(f"IFMODULE({m})") != "1"]
    if missing_modules:
        return Check("trunks", False, "cannot check: not loaded: " + ", ".join(missing_modules), _MODULES_FIX)
    problems, seen = [], []
    for where, endpoint in endpoints.items():
        if not endpoint:
            problems.append(f"{where}: no endpoint name in the channel template (PJSIP/{{number}}@ENDPOINT)")
            continue
        aors = await ami.function(f"PJSIP_ENDPOINT({endpoint},aors)")
        if not aors:
            problems.append(f"{where}: no PJSIP endpoint {endpoint!r}")
            continue
        contacts = [
            c
            for aor in aors.split(",")
            if aor
            for c in (await ami.function(f"PJSIP_AOR({aor},contact)")).split(",")
            if c
        ]
        if not contacts:
            problems.append(f"{where}: endpoint {endpoint!r} has no contact (not registered?)")
            continue
        states = [await ami.function(f"PJSIP_CONTACT({c},status)") for c in contacts]
        if all(state == "Unreachable" for state in states):
            problems.append(f"{where}: endpoint {endpoint!r} is unreachable (qualify)")
            continue
        seen.append(f"{endpoint} ({', '.join(sorted(set(states)))})")
    if problems:
        return Check(
            "trunks",
            False,
            "; ".join(problems),
            "define the endpoint in pjsip.conf with an aor that has a contact (or registers), "
            "'pjsip reload', and 'pjsip show endpoint NAME'; qualify_frequency shows reachability",
        )
    return Check("trunks", True, ", ".join(seen))


def _rtp_ports(settings: Settings) -> Check:
    """Asterisk's RTP range holds this worker's channels over SIP, with an agent leg each."""
    path = settings.rtp_conf
    try:
        text = path.read_text(errors="replace")[:1_000_000]
    except OSError as e:
        return Check(
            "RTP ports",
            True,
            f"not checked: cannot read {path} ({e.strerror}); set [pbx] rtp_conf where the PBX's rtp.conf "
            f"is readable, or check by hand that rtpstart-rtpend holds {SESSIONS_PER_CALL} x "
            f"{settings.dialer.max_channels} channels",
        )
    rtp = parse_rtp_conf(text)
    need = SESSIONS_PER_CALL * settings.dialer.max_channels
    detail = (
        f"{path.name} {rtp.start}-{rtp.end} holds {rtp.sessions} RTP sessions; this worker's "
        f"{settings.dialer.max_channels} channels need {need} (the callee's leg and an agent's)"
    )
    if rtp.sessions < need:
        return Check(
            "RTP ports",
            False,
            detail,
            f"set rtpend = {rtp.ports_for(need)} in rtp.conf (more for other workers on this PBX), "
            "'module reload res_rtp_asterisk.so', and open those UDP ports in the firewall; "
            "calls beyond the range fail as pbx_error",
        )
    return Check("RTP ports", True, detail)


async def _contexts(ami: AmiClient, contexts: tuple[str, ...]) -> Check:
    missing = [c for c in contexts if await ami.function(f"DIALPLAN_EXISTS({c})") != "1"]
    if missing:
        return Check(
            "dialplan contexts",
            False,
            "missing: " + ", ".join(missing),
            "#include extensions_voicebot.conf from extensions.conf, then 'dialplan reload' "
            "(see dialplans/asterisk/README.md)",
        )
    return Check("dialplan contexts", True, ", ".join(contexts))


async def _reachability(ami: AmiClient, settings: Settings) -> list[Check]:
    """Ask Asterisk to connect to our FastAGI and AudioSocket ports.

    An Originate of ``AudioSocket/HOST:PORT/UUID`` makes Asterisk dial our
    AudioSocket port; its application ``AGI(agi://HOST:PORT/doctor)`` then
    makes it connect to our FastAGI port. Temporary listeners on the configured
    ports record both connections.
    """
    probe = str(uuid.uuid4())
    handlers: set[asyncio.Task[None]] = set()
    seen: dict[str, asyncio.Event] = {"agi": asyncio.Event(), "audiosocket": asyncio.Event()}

    async def on_agi(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.add(asyncio.current_task())  # type: ignore[arg-type]
        with contextlib.suppress(Exception):
            data = await asyncio.wait_for(reader.readuntil(b"\n\n"), 3)
            if b"agi_network_script: doctor" in data:
                seen["agi"].set()
            writer.write(b"HANGUP\n")
            await writer.drain()
        writer.close()

    async def on_audiosocket(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.add(asyncio.current_task())  # type: ignore[arg-type]
        decoder = FrameDecoder()
        with contextlib.suppress(Exception):
            frames = decoder.feed(await asyncio.wait_for(reader.readexactly(19), 3))
            if frames and frames[0].type is FrameType.UUID and str(frames[0].uuid()) == probe:
                seen["audiosocket"].set()
            # keep the channel alive (silence) until the AGI check is done
            for _ in range(150):
                writer.write(encode(Frame.audio(bytes(320))))
                await asyncio.sleep(0.02)
                if seen["agi"].is_set():
                    break
            writer.write(encode(Frame.hangup()))
        writer.close()

    servers: list[asyncio.Server] = []
    checks: list[Check] = []
    for name, server_settings, handler, env in (
        ("FastAGI port", settings.agi, on_agi, "VOICEBOT_AGI"),
        ("AudioSocket port", settings.audiosocket, on_audiosocket, "VOICEBOT_AUDIOSOCKET"),
    ):
        try:
            servers.append(await asyncio.start_server(handler, server_settings.host, server_settings.port))
        except OSError as e:
            checks.append(
                Check(
                    name,
                    False,
                    f"cannot listen on {server_settings.host}:{server_settings.port}: {e.strerror}",
                    f"stop what holds the port (voicebot serve?) or set {env}__PORT",
                )
            )
    if checks:
        for s in servers:
            s.close()
        return checks
    agi_port, as_port = (s.sockets[0].getsockname()[1] for s in servers)
    agi_address = settings.agi.address(agi_port)
    as_address = settings.audiosocket.address(as_port)
    try:
        with contextlib.suppress(VoicebotError):
            await ami.action(
                {
                    "Action": "Originate",
                    "Channel": f"AudioSocket/{as_address}/{probe}",
                    "Context": "voicebot-doctor",  # its AGI: Originate to AGI itself needs 'system'
                    "Exten": "s",
                    "Priority": "1",
                    "Variable": f"VOICEBOT_AGI={agi_address}",
                    "Timeout": "5000",
                    "Async": "true",
                },
                timeout=1.0,
            )
        for key in seen:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(seen[key].wait(), 6)
    finally:
        for s in servers:
            s.close()
        await asyncio.wait(handlers, timeout=4) if handlers else None
    for key, name, address, env in (
        ("agi", "FastAGI port", agi_address, "VOICEBOT_AGI"),
        ("audiosocket", "AudioSocket port", as_address, "VOICEBOT_AUDIOSOCKET"),
    ):
        if seen[key].is_set():
            checks.append(Check(name, True, f"Asterisk reached {address}"))
        else:
            checks.append(
                Check(
                    name,
                    False,
                    f"Asterisk did not connect to {address}",
                    f"make {address} reachable from the Asterisk host (firewall, bind address), "
                    f"or set {env}__ADVERTISE to the address Asterisk should use",
                )
            )
    return checks


def print_checks(checks: list[Check], echo: Callable[[str], None]) -> bool:
    for c in checks:
        echo(f"{'ok  ' if c.ok else 'FAIL'}  {c.name}: {c.detail}")
        if not c.ok and c.hint:
            echo(f"      fix: {c.hint}")
    return all(c.ok for c in checks)
