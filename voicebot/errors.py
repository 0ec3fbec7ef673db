"""The one exception tree of voicebot.

    VoicebotError
    ├── ConfigError               bad settings file or value: stops startup
    │   └── ScriptError           a script or intent file is wrong (file, line, fix)
    ├── NumberFormatError         a destination that is neither a phone number nor a channel
    ├── TelephonyError
    │   ├── AmiError
    │   │   ├── AmiConnectError   AMI unreachable (after retries)
    │   │   ├── AmiAuthError      AMI refused the login
    │   │   ├── AmiActionError    an AMI action answered with an error
    │   │   └── AmiDisconnected   the connection dropped while an action waited
    │   ├── AgiError              a FastAGI exchange failed
    │   └── AudioSocketError
    │       └── FrameError        a malformed AudioSocket frame
    ├── MediaError                unreadable or unsupported audio
    ├── LeadFileError             a lead or do-not-call file has bad rows (each with its line)
    ├── CampaignError             an unknown campaign, or a change its state does not allow
    │   └── DialRefused           the dial rules refuse a call now (why, and when it could be placed)
    ├── ConsoleError              a console request the user may not make, or a bad form or user
    └── StoreError                the database failed or is out of date
        └── StoreUnavailable      the database cannot be reached now (writes wait in the outbox)

Library errors are translated at the boundary with ``raise ... from e``. Every
error carries a message that says what is wrong and how to fix it; ``hint``
holds the fix when it is worth printing on its own line.
"""

from __future__ import annotations

from datetime import datetime


class VoicebotError(Exception):
    """Base of every error voicebot raises on purpose."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  fix: {self.hint}"
        return self.message


class ConfigError(VoicebotError):
    """A settings file or value is invalid; startup stops."""


class ScriptError(ConfigError):
    """A sales script or intent file is wrong; ``file`` and ``line`` say where."""

    def __init__(self, message: str, *, file: str, line: int | None = None, hint: str | None = None) -> None:
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {message}", hint=hint)
        self.file = file
        self.line = line


class NumberFormatError(VoicebotError):
    """A destination is neither a valid phone number nor a channel string."""


class TelephonyError(VoicebotError):
    """Something between voicebot and the PBX failed."""


class PbxConnectError(TelephonyError):
    """The PBX's control connection (AMI, the event socket) could not be reached."""


class PbxAuthError(TelephonyError):
    """The PBX refused voicebot's login."""


class PbxActionError(TelephonyError):
    """The PBX answered a command with an error, or not in time."""


class PbxDisconnected(TelephonyError):
    """The PBX's control connection dropped while a command waited for its answer."""


class AmiError(TelephonyError):
    """The Asterisk Manager Interface failed."""


class AmiConnectError(AmiError, PbxConnectError):
    """AMI could not be reached."""


class AmiAuthError(AmiError, PbxAuthError):
    """AMI refused the login (wrong user or secret, or not permitted from this host)."""


class AmiActionError(AmiError, PbxActionError):
    """An AMI action was answered with an error."""


class AmiDisconnected(AmiError, PbxDisconnected):
    """The AMI connection dropped while an action waited for its answer."""


class EslError(TelephonyError):
    """FreeSWITCH's event socket failed."""


class EslConnectError(EslError, PbxConnectError):
    """The event socket could not be reached."""


class EslAuthError(EslError, PbxAuthError):
    """The event socket refused the login (password, user, or its ACL)."""


class EslActionError(EslError, PbxActionError):
    """An event-socket command was answered with -ERR, or not in time."""


class EslDisconnected(EslError, PbxDisconnected):
    """The event socket dropped while a command waited for its answer."""


class EslProtocolError(EslError):
    """Bytes on the event socket that are not its protocol, or beyond its bounds."""


class AgiError(TelephonyError):
    """A FastAGI exchange failed."""


class AudioSocketError(TelephonyError):
    """The AudioSocket media connection failed."""


class FrameError(AudioSocketError):
    """A malformed AudioSocket frame: unknown type, bad length, or wrong payload."""


class MediaError(VoicebotError):
    """Audio that cannot be read or converted."""


class LeadFileError(VoicebotError):
    """A lead or do-not-call file cannot be read, or has rows that cannot be imported."""


class CampaignError(VoicebotError):
    """An unknown campaign, or a change its state does not allow."""


class ConsoleError(VoicebotError):
    """A console request refused: a bad form value, an unknown user, a state change not allowed."""


class StoreError(VoicebotError):
    """The database failed, or its schema is not the one this version needs."""


class DialRefused(CampaignError):
    """The dial rules refuse this call now; ``retry_at`` is when they would allow it (None: never)."""

    def __init__(self, message: str, *, retry_at: datetime | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_at = retry_at


class StoreUnavailable(StoreError):
    """The database cannot be reached now: a network or server outage, not a bad request."""
