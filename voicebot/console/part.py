"""What the console's route groups (call pages, inspection, complaints) use of the app that
joins them: the store, the settings, the session check, the form check and the renderer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from voicebot.config import ConsoleSettings, Settings
from voicebot.console.auth import Role, User
from voicebot.console.desk import Desk
from voicebot.store import Store


class ConsolePart:
    store: Store
    desk: Desk
    settings: ConsoleSettings
    all_settings: Settings

    if TYPE_CHECKING:

        async def _require(self, request: Request, *roles: Role) -> tuple[User, str]: ...

        async def _form(self, request: Request, csrf: str) -> dict[str, str]: ...

        def _render(
            self, request: Request, name: str, user: User | None, status: int = 200, **context: Any
        ) -> Response: ...
