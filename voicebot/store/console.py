"""The console's records: users, their logins, agents' states and hand-offs to agents.

Every method is one transaction. Hashes come in made (``voicebot.console.auth``): the
store never sees a password or a session token, only their hashes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from voicebot.errors import ConsoleError
from voicebot.store.audit import _audit
from voicebot.store.handoffs import HandoffRecords
from voicebot.store.models import (
    AgentStateRow,
    ConsoleSessionRow,
    UserRow,
)
from voicebot.store.models import aware as _aware


@dataclass(frozen=True, slots=True)
class UserInfo:
    id: int
    username: str
    name: str
    role: str
    language: str
    interface: str | None
    queues: tuple[str, ...]
    department: str
    active: bool
    password_hash: str


@dataclass(frozen=True, slots=True)
class AgentState:
    user_id: int
    username: str
    name: str
    interface: str | None
    queues: tuple[str, ...]
    state: str
    reason: str
    since: datetime
    heartbeat_at: datetime | None
    call_id: str | None


def _user(row: UserRow) -> UserInfo:
    return UserInfo(
        row.id,
        row.username,
        row.name,
        row.role,
        row.language,
        row.interface,
        tuple(row.queues or ()),
        row.department,
        row.active,
        row.password_hash,
    )


class ConsoleRepo(HandoffRecords):
    def __init__(self, sessions: sessionmaker[Session], now: Callable[[], datetime]) -> None:
        self._sessions = sessions
        self._now = now

    # -- users ------------------------------------------------------------------------
    def add_user(
        self,
        username: str,
        *,
        role: str,
        password_hash: str,
        name: str = "",
        language: str = "en",
        interface: str | None = None,
        queues: tuple[str, ...] = (),
        department: str = "",
        actor: str,
    ) -> UserInfo:
        now = self._now()
        try:
            with self._sessions.begin() as s:
                row = UserRow(
                    username=username,
                    name=name or username,
                    role=role,
                    password_hash=password_hash,
                    language=language,
                    interface=interface,
                    queues=list(queues),
                    department=department,
                    active=True,
                    created_at=now,
                )
                s.add(row)
                s.flush()
                _audit(s, now, actor, "user_add", role, detail={"user": username, "interface": interface})
                return _user(row)
        except IntegrityError:
            raise ConsoleError(
                f"user {username!r} or interface {interface!r} exists already",
                hint="pick another name, or `voicebot users password NAME` to change a password",
            ) from None

    def set_password(self, username: str, password_hash: str, *, actor: str) -> None:
        now = self._now()
        with self._sessions.begin() as s:
            row = s.scalar(select(UserRow).where(UserRow.username == username))
            if row is None:
                raise ConsoleError(f"no user {username!r}", hint="`voicebot users list` shows them")
            row.password_hash = password_hash
            s.execute(delete(ConsoleSessionRow).where(ConsoleSessionRow.user_id == row.id))
            _audit(s, now, actor, "user_password", detail={"user": username})

    def user(self, username: str) -> UserInfo | None:
        with self._sessions() as s:
            row = s.scalar(select(UserRow).where(UserRow.username == username))
            return _user(row) if row is not None else None

    def user_by_id(self, user_id: int) -> UserInfo | None:
        with self._sessions() as s:
            row = s.get(UserRow, user_id)
            return _user(row) if row is not None else None

    def users(self) -> list[UserInfo]:
        with self._sessions() as s:
            return [_user(r) for r in s.scalars(select(UserRow).order_by(UserRow.username))]

    # -- logins -----------------------------------------------------------------------
    def login(self, user: UserInfo, *, token_hash: str, csrf: str, lifetime: timedelta, address: str) -> None:
        now = self._now()
        with self._sessions.begin() as s:
            s.execute(delete(ConsoleSessionRow).where(ConsoleSessionRow.expires_at < now))
            s.add(
                ConsoleSessionRow(
                    token_hash=token_hash,
                    user_id=user.id,
                    csrf=csrf,
                    created_at=now,
                    seen_at=now,
                    expires_at=now + lifetime,
                    address=address[:64],
                )
            )
            _audit(s, now, user.username, "login", detail={"address": address[:64]})

    def login_failed(self, username: str, address: str) -> None:
        with self._sessions.begin() as s:
            _audit(s, self._now(), username[:64], "login_failed", detail={"address": address[:64]})

    def session(self, token_hash: str, *, idle: timedelta) -> tuple[UserInfo, str] | None:
        """The user and CSRF token of a live login; each use keeps it alive ``idle`` longer,
        up to its absolute expiry."""
        now = self._now()
        with self._sessions.begin() as s:
            row = s.get(ConsoleSessionRow, token_hash)
            if row is None:
                return None
            if _aware(row.expires_at) <= now or _aware(row.seen_at) + idle <= now:
                s.delete(row)
                return None
            user = s.get(UserRow, row.user_id)
            if user is None or not user.active:
                return None
            if now - _aware(row.seen_at) > timedelta(seconds=30):
                row.seen_at = now
            return _user(user), row.csrf

    def logout(self, token_hash: str, username: str) -> None:
        with self._sessions.begin() as s:
            s.execute(delete(ConsoleSessionRow).where(ConsoleSessionRow.token_hash == token_hash))
            _audit(s, self._now(), username, "logout")

    # -- agents -----------------------------------------------------------------------
    def set_agent_state(
        self, user_id: int, state: str, reason: str = "", *, call_id: str | None = None
    ) -> AgentState:
        now = self._now()
        with self._sessions.begin() as s:
            row = s.get(AgentStateRow, user_id)
            if row is None:
                row = AgentStateRow(user_id=user_id, state=state, reason=reason, since=now)
                s.add(row)
            elif (row.state, row.reason) != (state, reason):
                row.state, row.reason, row.since = state, reason, now
            row.call_id = call_id
            s.flush()
            return self._agent(s, row)

    def heartbeat(self, user_id: int) -> None:
        with self._sessions.begin() as s:
            s.execute(
                update(AgentStateRow).where(AgentStateRow.user_id == user_id).values(heartbeat_at=self._now())
            )

    def agent_states(self) -> list[AgentState]:
        with self._sessions() as s:
            return [self._agent(s, r) for r in s.scalars(select(AgentStateRow))]

    def agent_state(self, user_id: int) -> AgentState | None:
        with self._sessions() as s:
            row = s.get(AgentStateRow, user_id)
            return self._agent(s, row) if row is not None else None

    @staticmethod
    def _agent(s: Session, row: AgentStateRow) -> AgentState:
        user = s.get(UserRow, row.user_id)
        assert user is not None
        return AgentState(
            row.user_id,
            user.username,
            user.name,
            user.interface,
            tuple(user.queues or ()),
            row.state,
            row.reason,
            _aware(row.since),
            _aware(row.heartbeat_at),
            row.call_id,
        )

    def viewed(self, username: str, call_id: str, *, allowed: bool, action: str = "call_view") -> None:
        """Every view of a call (``action``: call_view, recording_play, recording_download) is
        audited, and every refusal (``ACTION_denied``)."""
        with self._sessions.begin() as s:
            _audit(s, self._now(), username, action if allowed else f"{action}_denied", call_id=call_id)
