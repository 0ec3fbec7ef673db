"""Who may log in and what they may see. Pure, but for the argon2 hash (argon2-cffi)."""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from voicebot.errors import ConsoleError

#: The cookie that carries a login's token (HttpOnly, SameSite=Strict).
SESSION_COOKIE = "voicebot_session"
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 256

_hasher = PasswordHasher()  # argon2id with argon2-cffi's current parameters (RFC 9106 low-memory)


class Role(enum.StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    QA = "qa"
    COMPLIANCE = "compliance"
    ADMIN = "admin"


#: Roles that see every call (an agent sees only the calls handed to them).
SEES_ALL_CALLS = frozenset({Role.SUPERVISOR, Role.QA, Role.COMPLIANCE, Role.ADMIN})
#: Roles that steer campaigns (pause, resume, stop, pacing).
STEERS_CAMPAIGNS = frozenset({Role.SUPERVISOR, Role.ADMIN})


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    name: str
    role: Role
    language: str
    interface: str | None
    queues: tuple[str, ...]
    department: str

    @property
    def is_agent(self) -> bool:
        return self.role is Role.AGENT


def check_username(username: str) -> str:
    if not USERNAME.match(username):
        raise ConsoleError(
            f"bad user name {username!r}",
            hint="2 to 64 characters: lower-case letters, digits, '.', '_' and '-'",
        )
    return username


def hash_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise ConsoleError(f"a password needs {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    if len(password) > MAX_PASSWORD:
        return False
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


#: Verified when the user name is unknown, so a login takes as long either way.
DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the database keeps of a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
