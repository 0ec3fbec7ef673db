"""Settings: defaults < a TOML file < VOICEBOT_* environment variables.

Nested keys use ``__`` in the environment: ``VOICEBOT_AMI__SECRET`` is
``[ami] secret`` in the file. A bad file or value stops startup with the file,
the line and what to change (:class:`voicebot.errors.ConfigError`).
"""

from __future__ import annotations

import os
import re
import socket
import tomllib
from datetime import time
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from voicebot.campaign.definition import Hours
from voicebot.config_pbx import (
    AgiSettings,
    AmiSettings,
    AudioSocketSettings,
    CallSocketSettings,
    CdrSettings,
    EslSettings,
    PbxSettings,
    ServerSettings,
    TrunkSettings,
    UnicastSettings,
)
from voicebot.config_pbx import Section as _Section
from voicebot.errors import ConfigError
from voicebot.qa import complaints as complaint_rules

DEFAULT_CONFIG_FILE = Path("voicebot.toml")
_ASSETS = Path(__file__).parent / "assets"

__all__ = [
    "AgiSettings",
    "AmiSettings",
    "AudioSocketSettings",
    "CallSocketSettings",
    "CdrSettings",
    "EslSettings",
    "PbxSettings",
    "ServerSettings",
    "Settings",
    "TrunkSettings",
    "UnicastSettings",
    "load_settings",
]


class DialSettings(_Section):
    context: str = "voicebot-outbound"
    exten: str = "s"
    #: How a phone number becomes a channel; {number} is the formatted number.
    channel_template: str = "PJSIP/{number}@trunk"
    #: e164 (+8613800138000), national (013800138000) or digits (8613800138000).
    number_format: str = Field("e164", pattern="^(e164|national|digits)$")
    default_region: str = Field("CN", min_length=2, max_length=2)
    ring_timeout: float = Field(30.0, gt=0)
    #: The number campaign calls over this way out show unless the campaign names its own.
    caller_id: str = ""
    #: The numbers assigned to it (the campaign's caller id must be one of them); empty: any.
    caller_ids: list[str] = Field(default_factory=list)


class CallSettings(_Section):
    #: The greeting: a recording, or ``greeting_text`` spoken with [speech] voice and rate.
    greeting: Path = _ASSETS / "greeting-en.wav"
    greeting_text: str | None = None
    #: A script directory (nlu.yml + flow.yml): calls follow it instead of greeting and listening.
    script: Path | None = None
    #: Classify with a Rasa server (``rasa run --enable-api``) instead of the built-in model.
    rasa_url: str | None = None
    #: False: the callee cannot interrupt the greeting (an opening with the legal disclosure).
    greeting_barge_in: bool = False
    #: How long the minimal behaviour waits for the callee to start speaking (no-input timeout).
    listen_seconds: float = Field(6.0, ge=0)
    max_call_seconds: float = Field(600.0, gt=0)
    #: After its last words the bot waits this long for the callee to hang up first (not after a
    #: transfer to an agent), rather than cutting them off.
    hangup_grace: float = Field(1.5, ge=0, le=30)
    #: Take into the bot calls voicebot did not originate (another system's Originate into
    #: voicebot-outbound, with a VOICEBOT_CALL_ID of its own). Off: such a call is hung up.
    adopt_external: bool = False
    #: The Asterisk queue a warm lead is handed to (campaigns may name their own).
    queue: str = Field("voicebot-agents", pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
    #: How long a transferred callee waits for an agent before the bot takes them back
    #: (apology, callback); campaigns may set their own.
    agent_wait: float = Field(30.0, ge=5, le=600)


class SpeechSettings(_Section):
    #: Recognizer: "none" (turn timing only), "vosk" or "whisper". ``model`` is a model
    #: directory or a name from ``voicebot models``.
    engine: str = Field("none", pattern="^(none|vosk|whisper)$")
    model: str | None = None
    #: Whisper only: the language spoken (None: detect).
    language: str | None = "en"
    #: Conversations this worker holds at once within its latency target; the dialer never has
    #: more calls up (None: as measured per core for the engine, see voicebot/speech/capacity.py).
    capacity: int | None = Field(None, ge=1, le=2000)
    #: Decoder threads shared by every call (None: one per core the process may use).
    decode_threads: int | None = Field(None, ge=1, le=64)
    #: Voice activity detector: silero (Silero VAD v6, shipped with faster-whisper), or webrtc
    #: (WebRTC's, which declares silence ~100 ms later after the last word: bench/turn_end.py);
    #: auto: silero when faster-whisper is installed, else webrtc.
    vad: str = Field("auto", pattern="^(auto|webrtc|silero)$")
    #: webrtc only: 0 (lenient) to 3 (strict).
    vad_aggressiveness: int = Field(3, ge=0, le=3)
    #: Silence after speech that ends the callee's turn.
    trailing_silence: float = Field(0.7, gt=0, le=5)
    #: Silence after speech at which recognition starts on the turn so far (Whisper): the rest
    #: of the trailing silence hides the decoding.
    speculate_after: float = Field(0.2, gt=0, le=5)
    max_utterance: float = Field(15.0, gt=0)
    #: Speech needed to count as speech (and to interrupt a prompt): coughs and "mm" are shorter.
    min_speech: float = Field(0.2, ge=0.02, le=2)
    #: Audio kept from before the speech started, so no word start is lost.
    pre_roll: float = Field(0.3, ge=0, le=2)
    voice: str = "en-us"
    rate: int = Field(160, ge=60, le=400)


class DialerSettings(_Section):
    """The campaign dialer of this worker (several workers may share one PostgreSQL database)."""

    #: This worker's name in attempts and the audit; keep it stable across restarts.
    worker: str = Field(default_factory=socket.gethostname, min_length=1, max_length=64)
    #: Channels this worker may have up at once (the PBX's or trunk's limit).
    max_channels: int = Field(20, ge=1, le=2000)
    #: Seconds between scheduling passes when nothing wakes the dialer sooner.
    tick: float = Field(1.0, gt=0, le=60)


class RetentionSettings(_Section):
    """How long personal data is kept, in days (0: keep forever). ``voicebot serve`` applies it
    every ``every_minutes``; ``voicebot retention`` applies it now. Do-not-call lists are kept."""

    recordings_days: int = Field(180, ge=0)
    transcripts_days: int = Field(180, ge=0)  # transcripts and call timelines
    calls_days: int = Field(365, ge=0)  # call records anonymized: number, channel, transcript
    leads_days: int = Field(365, ge=0)  # leads not touched for this long are deleted
    audit_days: int = Field(1095, ge=0)  # phone numbers in older audit entries are masked
    #: Keep recordings as Ogg Opus (about an eighth of the WAV) once their call ended this long ago.
    compress_recordings: bool = True
    compress_after_minutes: float = Field(5.0, ge=1)
    every_minutes: int = Field(60, ge=1)

    @model_validator(mode="after")
    def _nested(self) -> RetentionSettings:
        for shorter in ("recordings_days", "transcripts_days"):
            if self.calls_days and not 0 < getattr(self, shorter) <= self.calls_days:
                raise ValueError(f"{shorter} must be between 1 and calls_days ({self.calls_days})")
        return self


class ConsoleSettings(_Section):
    """The web console (agents, supervisors). ``voicebot console`` serves it; ``voicebot serve``
    serves it too when ``enabled``. Put it behind TLS (a reverse proxy) off the loopback."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    #: A login lasts this long at most, and ends after ``idle_minutes`` without a request.
    session_hours: float = Field(12.0, gt=0, le=24 * 7)
    idle_minutes: float = Field(30.0, gt=0)
    #: Mark cookies Secure (the console is served over HTTPS by a proxy).
    secure_cookies: bool = False
    #: A ready agent whose screen has been gone this long is paused ("screen lost").
    screen_grace: float = Field(10.0, gt=0, le=300)
    #: The company the agents name when they introduce themselves.
    company: str = Field("", max_length=128)
    #: Preview calls an agent may place a day (the outbound rulebook caps an agent at 200).
    agent_daily_calls: int = Field(200, ge=0, le=10_000)


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not a time zone (write it like Asia/Shanghai)") from None
    return value


TimeZoneName = Annotated[str, AfterValidator(_time_zone)]


class InboundSettings(_Section):
    """Callees calling back the number the robot showed (the ``voicebot-inbound`` context)."""

    #: Answer them at all (off: the route hangs up and the PBX's own fallback follows).
    enabled: bool = True
    #: When agents take them, in ``timezone``: outside these hours, or with no agent logged in to
    #: the queue, the bot answers (the script's ``inbound`` node, else its ``no_agent`` node).
    agent_hours: Hours = Hours(days=(0, 1, 2, 3, 4, 5, 6), ranges=((time(9, 0), time(21, 0)),))
    timezone: TimeZoneName = "Asia/Shanghai"


class ComplaintSettings(_Section):
    #: Hours to close a complaint in, by severity (low, medium, high, critical); past it, overdue.
    due_hours: dict[str, float] = Field(
        default_factory=lambda: {"low": 72.0, "medium": 48.0, "high": 24.0, "critical": 4.0}
    )
    #: What complaints are about (each center keeps its own list; reports count them by these).
    categories: tuple[str, ...] = complaint_rules.CATEGORIES

    @field_validator("categories")
    @classmethod
    def _categories(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value or len(set(value)) != len(value):
            raise ValueError("give one or more categories, each once")
        bad = [c for c in value if not re.fullmatch(r"[a-z][a-z0-9_]{0,31}", c)]
        if bad:
            raise ValueError(f"{bad[0]!r}: a category is lower-case letters, digits and _ (up to 32)")
        return value

    @field_validator("due_hours")
    @classmethod
    def _every_severity(cls, value: dict[str, float]) -> dict[str, float]:
        wanted = {"low", "medium", "high", "critical"}
        if set(value) != wanted or any(not 0 < hours <= 24 * 90 for hours in value.values()):
            raise ValueError("give hours (up to 90 days) for each of low, medium, high and critical")
        return value


class QaSettings(_Section):
    """The inspectors' queue: ``voicebot serve`` fills it every ``sample_every_minutes`` (a
    campaign's failed calls of the week at once, last week's sample when the week is over)."""

    auto_sample: bool = True
    sample_every_minutes: float = Field(60.0, gt=0)
    #: The rulebooks' minimums: calls inspected a week and a month, when that many exist.
    per_week: int = Field(25, ge=0, le=10_000)
    per_month: int = Field(100, ge=0, le=40_000)
    #: Every sign-up (an agent's sale) is inspected too.
    signups: bool = True


class ReportSettings(_Section):
    """``voicebot report`` and the console's reports."""

    #: The zone report days start in.
    timezone: TimeZoneName = "Asia/Shanghai"
    #: An agent's scorecard: the outbound rulebook's weights (volume, results, quality, feedback).
    scorecard_weights: dict[str, float] = Field(
        default_factory=lambda: {"volume": 0.3, "results": 0.3, "quality": 0.2, "feedback": 0.2}
    )

    @field_validator("scorecard_weights")
    @classmethod
    def _weights(cls, value: dict[str, float]) -> dict[str, float]:
        if set(value) != {"volume", "results", "quality", "feedback"} or any(w < 0 for w in value.values()):
            raise ValueError("give a weight (0 to 1) for each of volume, results, quality and feedback")
        if abs(sum(value.values()) - 1.0) > 1e-6:
            raise ValueError(f"the weights add up to {sum(value.values()):g}: make them add up to 1")
        return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="VOICEBOT_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    data_dir: Path = Path(os.environ.get("XDG_DATA_HOME", "~/.local/share")).expanduser() / "voicebot"
    database_url: str | None = None
    #: The PBX's file-system root as seen from voicebot ("/" unless Asterisk runs in a chroot).
    pbx_root: Path = Path("/")
    log_level: str = "INFO"
    ami: AmiSettings = AmiSettings()
    agi: AgiSettings = AgiSettings()  # a section that gives only host keeps the default port
    audiosocket: AudioSocketSettings = AudioSocketSettings()
    esl: EslSettings = EslSettings()
    callsocket: CallSocketSettings = CallSocketSettings()
    unicast: UnicastSettings = UnicastSettings()
    dial: DialSettings = DialSettings()
    call: CallSettings = CallSettings()
    speech: SpeechSettings = SpeechSettings()
    dialer: DialerSettings = DialerSettings()
    pbx: PbxSettings = PbxSettings()
    cdr: CdrSettings = CdrSettings()
    retention: RetentionSettings = RetentionSettings()
    console: ConsoleSettings = ConsoleSettings()
    inbound: InboundSettings = InboundSettings()
    complaints: ComplaintSettings = ComplaintSettings()
    reports: ReportSettings = ReportSettings()
    qa: QaSettings = QaSettings()
    #: Named trunks: ``[trunks.carrier-a] channel_template = "PJSIP/{number}@carrier-a"``.
    trunks: dict[str, TrunkSettings] = {}

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'voicebot.db'}"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def prompts_dir(self) -> Path:
        return self.data_dir / "prompts"

    def way_out(self, trunk: str | None) -> TrunkSettings:
        """What a campaign naming ``trunk`` dials through (None: the [dial] defaults), with
        its number format filled in; ConfigError if the settings have no such trunk."""
        d = self.dial
        if trunk is None:
            return TrunkSettings(
                channel_template=d.channel_template,
                number_format=d.number_format,
                max_channels=self.dialer.max_channels,
                caller_id=d.caller_id,
                caller_ids=d.caller_ids,
            )
        if trunk not in self.trunks:
            raise ConfigError(
                f"trunk {trunk!r} is not in the settings",
                hint=f"add [trunks.{trunk}] channel_template = ... to the settings",
            )
        way = self.trunks[trunk]
        return way.model_copy(update={"number_format": way.number_format or d.number_format})

    @property
    def pbx_log(self) -> Path:
        return self.pbx.log or self.pbx_root / "var/log/asterisk/messages.log"

    @property
    def rtp_conf(self) -> Path:
        return self.pbx.rtp_conf or self.pbx_root / "etc/asterisk/rtp.conf"

    def recording_path(self, relative: str) -> Path:
        """Where a recording named by the PBX (relative to its monitor dir) is on this host."""
        return (self.pbx.recordings or self.pbx_root / "var/spool/asterisk/monitor") / relative


def load_settings(path: Path | None = None, **overrides: Any) -> Settings:
    """Build settings from ``path`` (or ./voicebot.toml, or $VOICEBOT_CONFIG) and the environment."""
    if path is None:
        env_path = os.environ.get("VOICEBOT_CONFIG")
        path = Path(env_path) if env_path else (DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.exists() else None)
    if path is not None:
        _check_toml(path)
    toml_file = path

    class _FileSettings(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
            if toml_file is not None:
                sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
            return tuple(sources)

    try:
        return _FileSettings(**overrides)
    except ValidationError as e:
        raise ConfigError(_describe(e, toml_file)) from e


def _check_toml(path: Path) -> None:
    try:
        # as the settings source reads it: bytes, no newline translation
        tomllib.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError as e:
        raise ConfigError(f"{path}: no such settings file", hint="check --config or VOICEBOT_CONFIG") from e
    except OSError as e:
        raise ConfigError(
            f"{path}: cannot read: {e.strerror}", hint="check --config or VOICEBOT_CONFIG"
        ) from e
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 text (byte {e.start})", hint="save the file as UTF-8") from e
    except (tomllib.TOMLDecodeError, RecursionError) as e:
        raise ConfigError(f"{path}: not valid TOML: {e}", hint="fix the line named above") from e


#: Settings whose values are never printed: secrets, and URLs (they may carry a password).
_SECRET = re.compile(r"secret|password|token|url", re.IGNORECASE)


def _is_section(loc: list[str]) -> bool:
    """Whether ``loc`` names a whole section (its value, given wrong, may be anything)."""
    field = Settings.model_fields.get(loc[0]) if len(loc) == 1 else None
    kind = field.annotation if field is not None else None
    return isinstance(kind, type) and issubclass(kind, BaseModel)


def _describe(error: ValidationError, path: Path | None) -> str:
    lines = []
    for item in error.errors():
        loc = [str(p) for p in item["loc"]]
        key = ".".join(loc)
        env = "VOICEBOT_" + "__".join(p.upper() for p in loc)
        where = _line_of(path, loc) if path else None
        origin = f"{path}:{where}: " if where else ""
        got = f" (got {item['input']!r})" if item["type"] != "missing" and "input" in item else ""
        if got and (_SECRET.search(key) or _is_section(loc) or isinstance(item["input"], dict | list)):
            got = " (value not shown: it may hold a secret)"
        if item["type"] == "extra_forbidden":
            lines.append(f"{origin}unknown setting {key!r}: remove it or check its spelling")
        else:
            lines.append(f"{origin}{key}: {item['msg']}{got}; set it in the file or as {env}")
    return "invalid settings:\n  " + "\n  ".join(lines)


def _line_of(path: Path, loc: list[str]) -> int | None:
    """The line where ``loc`` (section..., key) is set in a TOML file, if it can be found."""
    try:
        text = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    section, key = ".".join(loc[:-1]), loc[-1]
    current = ""
    for number, line in enumerate(text, start=1):
        stripped = line.strip()
        if m := re.fullmatch(r"\[([^\]]+)\]", stripped):
            current = m.group(1).strip()
        elif current == section and re.match(rf"{re.escape(key)}\s*=", stripped):
            return number
    return None
