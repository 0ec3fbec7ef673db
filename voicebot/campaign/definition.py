"""The campaign file: who runs, with which script, when, how often, how fast. Schema and loader.

```yaml
id: broadband-nov             # letters, digits, - and _
name: Broadband upgrade, November
script: intents/broadband-en  # relative to this file
require_consent: true         # the default: leads without a consent record are never dialed
timezone: Asia/Shanghai       # for leads whose zone is neither given nor known from the number
region: CN                    # how national numbers in lead files are read
calling_hours: {days: [mon, tue, wed, thu, fri], start: "09:00", end: "18:00"}
# or several ranges a day: calling_hours: {ranges: ["08:00-11:00", "15:00-18:00"]}
holidays: [2026-10-01, 2026-10-02]
ends_on: 2026-12-31
limits: {per_day: 2, per_7_days: 5, lifetime: 6, min_interval: 1h}
retry: {busy: 10m, no_answer: 1h, congestion: 5m, failed: 30m, machine: 4h, unknown: 1h}
pacing: {max_channels: 10, calls_per_second: 1}
amd: hangup                   # off, hangup, or message (leave machine_message on the machine)
```

Validation errors carry the file and the line of the offending key.
"""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from voicebot.campaign.retry import RetryPolicy
from voicebot.campaign.rules import AttemptLimits, CallingWindow, Policy
from voicebot.dialog.yamlfile import load_model
from voicebot.errors import ScriptError

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m|s)")
_SECONDS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}
#: The longest duration a campaign file may give (a retry delay, an interval, a retention).
MAX_DURATION = timedelta(days=3660)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_duration(value: Any) -> timedelta:
    """``90s``, ``10m``, ``1h30m``, ``7d`` (or a number of seconds), from 0 to ``MAX_DURATION``."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        text = str(value).strip().lower().replace(" ", "")
        parts = _DURATION.findall(text)
        if not parts or "".join(n + u for n, u in parts) != text:
            raise ValueError(f"{value!r} is not a duration: write it like 90s, 10m, 1h30m or 7d")
        seconds = sum(float(n) * _SECONDS[u] for n, u in parts)
    if not 0 <= seconds <= MAX_DURATION.total_seconds():  # NaN fails too
        raise ValueError(f"{value!r} is not a duration from 0 to {MAX_DURATION.days} days")
    return timedelta(seconds=seconds)


def _day(value: Any) -> int:
    if isinstance(value, int) and 0 <= value <= 6:  # as stored: Monday = 0
        return value
    text = str(value).strip().lower()[:3]
    if text not in DAYS:
        raise ValueError(f"{value!r} is not a day: use mon, tue, wed, thu, fri, sat, sun")
    return DAYS.index(text)


def _clock(value: Any) -> time:
    if isinstance(value, time):
        return value
    if value in ("24:00", 1440):  # the end of the day
        return time.max
    if isinstance(value, int):  # YAML 1.1 reads an unquoted 09:00 as 540 (sexagesimal minutes)
        return time(value // 60, value % 60)
    try:
        return time.fromisoformat(str(value))
    except ValueError as e:
        raise ValueError(f'{value!r} is not a time of day: write it like "09:00"') from e


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Day = Annotated[int, BeforeValidator(_day)]
Clock = Annotated[time, BeforeValidator(_clock)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, ser_json_timedelta="float")


def _range(value: Any) -> tuple[time, time]:
    """``"08:00-11:00"`` or ``{start: "08:00", end: "11:00"}``."""
    if isinstance(value, dict) and set(value) == {"start", "end"}:
        start, end = value["start"], value["end"]
    elif isinstance(value, list | tuple) and len(value) == 2:  # as stored
        start, end = value
    elif isinstance(value, str) and value.count("-") == 1:
        start, end = (part.strip() for part in value.split("-"))
    else:
        raise ValueError(f'{value!r} is not a range of hours: write it like "08:00-11:00"')
    opens, closes = _clock(start), _clock(end)
    if not opens < closes:
        raise ValueError(f"{value!r}: the range must end after it starts")
    return opens, closes


HourRange = Annotated[tuple[time, time], BeforeValidator(_range)]


class Hours(_Model):
    days: tuple[Day, ...] = (0, 1, 2, 3, 4)
    start: Clock | None = None  # default 09:00
    end: Clock | None = None  # default 18:00
    #: Several ranges a day (e.g. ["08:00-11:00", "15:00-18:00"]); instead of start and end.
    ranges: tuple[HourRange, ...] = ()

    @model_validator(mode="after")
    def _one_way(self) -> Hours:
        if self.ranges and (self.start is not None or self.end is not None):
            raise ValueError("give either start and end, or ranges, not both")
        return self

    def windows(self) -> tuple[tuple[time, time], ...]:
        return self.ranges or ((self.start or time(9, 0), self.end or time(18, 0)),)


class Limits(_Model):
    """Attempts per number; null means no cap. "One call per number per 3 days": min_interval: 3d."""

    per_day: int | None = Field(2, ge=1)
    per_24h: int | None = Field(None, ge=1)
    per_7_days: int | None = Field(5, ge=1)
    lifetime: int | None = Field(6, ge=1)
    #: Attempts of one lead in this campaign (the caps above count every campaign's calls to the number).
    per_lead: int | None = Field(None, ge=1)
    min_interval: Duration = timedelta(hours=1)


class Retry(_Model):
    """Delay before the next attempt after each outcome; null: do not retry after it."""

    busy: Duration | None = timedelta(minutes=10)
    no_answer: Duration | None = timedelta(hours=1)
    congestion: Duration | None = timedelta(minutes=5)
    failed: Duration | None = timedelta(minutes=30)
    machine: Duration | None = timedelta(hours=4)
    unknown: Duration | None = timedelta(hours=1)
    #: Answered, then cut by a fault of ours (the worker died): call them back soon.
    interrupted: Duration | None = timedelta(minutes=10)
    #: The callee's phone declined the call (SIP 603): another day.
    declined: Duration | None = timedelta(days=1)
    #: No such number (SIP 404 and the like): not retried.
    invalid: Duration | None = None
    #: The trunk refused to carry the call (401/403/407: credit, authentication, caller id), or
    #: failed (5xx): not the callee's doing; tried again once the trunk is fixed.
    rejected: Duration | None = timedelta(minutes=30)
    trunk_error: Duration | None = timedelta(minutes=10)
    #: The PBX could not place the call (no free RTP port, a channel limit): soon, once it can.
    pbx_error: Duration | None = timedelta(minutes=5)
    #: A callback the callee asked for without saying when.
    callback_default: Duration = timedelta(days=1)


class Pacing(_Model):
    max_channels: int = Field(10, ge=1, le=1000)
    calls_per_second: float = Field(1.0, gt=0, le=100)
    #: robot: up to max_channels. agents: as many as the queue's free agents can take when the
    #: expected share of callees asks for a person (voicebot.campaign.agent_pacing).
    mode: Literal["robot", "agents"] = "robot"
    #: Robot calls kept up while an agent is free (mode agents), as far as the bound allows.
    floor: int = Field(1, ge=0, le=1000)
    #: A transfer is abandoned when no agent has taken it this many seconds after the bridging line.
    abandon_after: float = Field(2.0, gt=0, le=600)
    #: The abandoned share of transfers the robot slows down to stay under (mode agents).
    abandon_ceiling: float = Field(0.03, gt=0, lt=1)


class CampaignFile(_Model):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
    name: str = ""
    script: Path | None = None
    require_consent: bool = True
    timezone: str = "Asia/Shanghai"
    region: str = Field("CN", min_length=2, max_length=2)
    calling_hours: Hours = Hours()
    holidays: tuple[date, ...] = ()
    ends_on: date | None = None
    limits: Limits = Limits()
    retry: Retry = Retry()
    pacing: Pacing = Pacing()
    #: A trunk from the settings' [trunks.NAME] (its channel template and limit); none: [dial].
    trunk: str | None = None
    #: The number its calls show: one assigned to the trunk (default: the trunk's caller_id).
    caller_id: str | None = Field(None, pattern=r"^\+?[0-9]{3,20}$")
    #: Answering machines (Asterisk AMD in the dialplan): off, hangup, or message (Playback of
    #: machine_message, a sound on the PBX such as custom/acme-callback, then hang up).
    amd: Literal["off", "hangup", "message"] = "off"
    #: The Asterisk queue of the agents who take this campaign's warm leads (default: [call] queue).
    queue: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
    #: Seconds a transferred callee waits for an agent before the bot takes them back (default:
    #: [call] agent_wait): the script's no_agent node apologizes and offers a callback.
    agent_wait: float | None = Field(None, ge=5, le=600)
    #: A sound name (it reaches the PBX as a channel variable): letters, digits, _ - and /.
    machine_message: str | None = Field(None, max_length=128, pattern=r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(f"unknown time zone {value!r}: use an IANA name like Asia/Shanghai") from e
        return value


class Campaign(CampaignFile):
    """A campaign definition as stored and used: paths resolved, rules built."""

    def policy(self) -> Policy:
        h = self.calling_hours
        window = CallingWindow(
            days=h.days, ranges=h.windows(), holidays=frozenset(self.holidays), ends_on=self.ends_on
        )
        lim = self.limits
        limits = AttemptLimits(
            per_day=lim.per_day,
            per_24h=lim.per_24h,
            per_7_days=lim.per_7_days,
            lifetime=lim.lifetime,
            per_lead=lim.per_lead,
            min_interval=lim.min_interval,
        )
        return Policy(window=window, limits=limits, require_consent=self.require_consent)

    def retry_policy(self) -> RetryPolicy:
        r = self.retry
        # every field but the callback default is a delay by disposition
        delays = {k: getattr(r, k) for k in Retry.model_fields if k != "callback_default"}
        return RetryPolicy(delays=delays, callback_default=r.callback_default)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def load_campaign(path: Path) -> Campaign:
    """Read a campaign file; relative paths in it are relative to the file."""
    parsed, lines = load_model(path, CampaignFile, hint="see the campaign file in docs/operations.md")
    data = parsed.model_dump()
    if data["script"] is not None and not Path(data["script"]).is_absolute():
        data["script"] = (path.parent / data["script"]).resolve()
    campaign = Campaign.model_validate(data)
    if campaign.amd == "message" and not campaign.machine_message:
        raise ScriptError(
            "amd: message needs machine_message",
            file=str(path),
            line=lines.get(("amd",)),
            hint="name a sound on the PBX (machine_message: custom/acme-callback) or use amd: hangup",
        )
    return campaign
