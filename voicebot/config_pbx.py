"""The PBX's settings: how voicebot reaches Asterisk (AMI, FastAGI, AudioSocket, CDR) or
FreeSWITCH (event socket, call socket, unicast), and the trunks out to the phone network.
Part of :mod:`voicebot.config` (which re-exports them)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class Section(BaseModel):
    """A settings section: unknown keys are an error, values do not change once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class AmiSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(5038, ge=1, le=65535)
    username: str = "voicebot"
    secret: SecretStr = SecretStr("")
    connect_timeout: float = Field(10.0, gt=0, description="seconds to keep retrying at startup")
    action_timeout: float = Field(10.0, gt=0)
    reconnect_max_delay: float = Field(10.0, gt=0)
    keepalive: float = Field(
        5.0, ge=0, description="seconds between keepalive Pings; one unanswered this long drops the link"
    )


class ServerSettings(Section):
    """Where a voicebot server listens, and the address Asterisk uses to reach it."""

    host: str = "127.0.0.1"
    port: int = Field(ge=0, le=65535)
    advertise: str | None = Field(None, description="host:port as Asterisk sees it")

    def address(self, bound_port: int | None = None) -> str:
        if self.advertise:
            return self.advertise
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"{host}:{bound_port or self.port}"


class EslSettings(Section):
    """FreeSWITCH's event socket ([pbx] kind = "freeswitch"): voicebot logs in as ``user``
    (a directory user, ``voicebot@DOMAIN``: dialplans/freeswitch/directory/voicebot.xml) or,
    without one, with the socket's admin password."""

    host: str = "127.0.0.1"
    port: int = Field(8021, ge=1, le=65535)
    user: str = ""
    password: SecretStr = SecretStr("")
    connect_timeout: float = Field(10.0, gt=0, description="seconds to keep retrying at startup")
    command_timeout: float = Field(10.0, gt=0)
    reconnect_max_delay: float = Field(10.0, gt=0)
    keepalive: float = Field(
        5.0, ge=0, description="seconds between keepalives; one unanswered drops the link"
    )


class CallSocketSettings(ServerSettings):
    """Where FreeSWITCH's ``socket`` app reaches voicebot, once per call (as FastAGI on Asterisk)."""

    port: int = Field(8085, ge=0, le=65535)


class UnicastSettings(Section):
    """FreeSWITCH's call audio: voicebot's UDP socket, and the ports FreeSWITCH binds on its side
    (one per call, from ``pbx_ports_from`` up: as many as calls at once)."""

    host: str = "127.0.0.1"
    port: int = Field(9094, ge=0, le=65535)
    advertise: str | None = Field(None, description="voicebot's IP as FreeSWITCH sees it")
    pbx_ports_from: int = Field(31000, ge=1024, le=65000)
    pbx_ports: int = Field(1000, ge=1, le=20000)


class AgiSettings(ServerSettings):
    port: int = Field(4573, ge=0, le=65535)


class AudioSocketSettings(ServerSettings):
    port: int = Field(9092, ge=0, le=65535)


class TrunkSettings(Section):
    """A way out to the phone network, with its own channel limit (a campaign names it)."""

    channel_template: str = Field(min_length=1)
    #: e164, national or digits (default: as [dial] number_format).
    number_format: str | None = Field(None, pattern="^(e164|national|digits)$")
    #: Channels up at once through this trunk, for this worker.
    max_channels: int = Field(30, ge=1, le=2000)
    #: The number its calls show unless the campaign names its own, and the numbers assigned.
    caller_id: str = ""
    caller_ids: list[str] = []


class PbxSettings(Section):
    """The PBX voicebot serves: its FastAGI and AudioSocket servers accept only it."""

    #: Asterisk (AMI, FastAGI, AudioSocket) or FreeSWITCH (event socket, call socket, unicast).
    kind: str = Field("asterisk", pattern="^(asterisk|freeswitch)$")
    #: Where the PBX writes call recordings; default: Asterisk's monitor directory under pbx_root.
    recordings: Path | None = None

    #: IPs or networks the PBX connects from (empty: the addresses of the AMI host).
    addresses: list[str] = []
    #: Asterisk's log (its WARNING and ERROR lines), read for the reason when it refuses a call;
    #: default: var/log/asterisk/messages.log under pbx_root. Unreadable: the reason is not known.
    log: Path | None = None
    #: Asterisk's rtp.conf, for doctor's RTP ports check; default: etc/asterisk/rtp.conf under pbx_root.
    rtp_conf: Path | None = None


class CdrSettings(Section):
    """Where Asterisk writes its call detail records (cdr_pgsql), to learn how a call whose
    worker died really went. Unset: such a call is closed from its journal alone."""

    url: str | None = Field(None, description="SQLAlchemy URL of the CDR database")
    table: str = "cdr"
