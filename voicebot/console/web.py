"""The console's ASGI app (Starlette): logins, the agent's screen, calls, the supervisor's view.

Server-rendered pages (Jinja2, autoescaped) with live updates over server-sent events.
Every form carries the login's CSRF token; every login, failed login and view of a call
is audited; an agent opens only the calls handed to them (anything else: 403, audited).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import jinja2
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from voicebot.campaign.definition import Campaign
from voicebot.config import Settings
from voicebot.console import auth, i18n, supervisor, wallboard
from voicebot.console.auth import Role, User
from voicebot.console.calls import CallPages
from voicebot.console.complaints import ComplaintPages
from voicebot.console.desk import Desk
from voicebot.console.preview import PreviewCalls
from voicebot.console.quality import QualityPages
from voicebot.console.reports import ReportPages
from voicebot.errors import ConsoleError, VoicebotError
from voicebot.store import Store
from voicebot.store.console import UserInfo

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
LOGIN_CSRF_COOKIE = "voicebot_login"
#: Failed logins from one address in a minute before it must wait.
MAX_FAILURES = 5
MAX_FORM_BYTES = 64 * 1024
KEEPALIVE = 5.0
#: Seconds between wall-board updates.
BOARD_EVERY = 2.0

CSP = "default-src 'self'; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'"


def _local_time(at: datetime | None, zone: str) -> str:
    """A time in the callee's zone, as the agent's lists show it."""
    if at is None:
        return ""
    try:
        return at.astimezone(ZoneInfo(zone or "UTC")).strftime("%Y-%m-%d %H:%M")
    except (ValueError, KeyError):
        return at.strftime("%Y-%m-%d %H:%M UTC")


def as_user(info: UserInfo) -> User:
    return User(
        info.id,
        info.username,
        info.name,
        Role(info.role),
        info.language,
        info.interface,
        info.queues,
        info.department,
    )


class _Headers(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_FORM_BYTES):
            return Response("request too large", status_code=413)
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        if not request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"  # pages carry personal data
        return response


class Console(CallPages, QualityPages, ComplaintPages, ReportPages):
    """The routes, over the store and the agents' desk (the call pages: :mod:`.calls`)."""

    def __init__(
        self, store: Store, desk: Desk, settings: Settings, *, preview: PreviewCalls | None = None
    ) -> None:
        self.store = store
        self.preview = preview
        #: Everything the console needs of the worker's settings: its own section, the default
        #: queue, the ways out (a preview call dials the lead as the robot would).
        self.all_settings = settings
        self.default_queue = settings.call.queue
        self.desk = desk
        self.settings = settings.console
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=True,
        )
        self.templates = Jinja2Templates(env=env)
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self.closing = asyncio.Event()
        self.app = Starlette(
            routes=[
                Route("/", self.home),
                Route("/login", self.login_page, methods=["GET"]),
                Route("/login", self.login, methods=["POST"]),
                Route("/logout", self.logout, methods=["POST"]),
                Route("/agent", self.agent_page),
                Route("/agent/state", self.agent_state, methods=["POST"]),
                Route("/agent/events", self.agent_events),
                Route("/calls/{call_id}", self.call_page),
                Route("/calls/{call_id}/pop", self.call_pop),
                Route("/calls/{call_id}/recording", self.call_recording),
                Route("/calls/{call_id}/wrapup", self.call_wrapup, methods=["POST"]),
                Route("/leads/{lead_id:int}/call", self.lead_call, methods=["POST"]),
                Route("/complaints", self.complaints_page),
                Route("/complaints", self.complaint_add, methods=["POST"]),
                Route("/complaints/{complaint_id:int}", self.complaint_move, methods=["POST"]),
                Route("/qa", self.qa_queue),
                Route("/qa/{inspection_id:int}", self.inspection_page),
                Route("/qa/{inspection_id:int}/{action}", self.inspection_action, methods=["POST"]),
                Route("/qa/follow-ups/{follow_up_id:int}/done", self.follow_up_done, methods=["POST"]),
                Route("/reports", self.reports_page),
                Route("/reports/export.{kind}", self.report_export),
                Route("/supervisor", self.supervisor_page),
                Route("/supervisor/events", self.supervisor_events),
                Route("/campaigns/{campaign_id}/state", self.campaign_state, methods=["POST"]),
                Route("/campaigns/{campaign_id}/pacing", self.campaign_pacing, methods=["POST"]),
                Route("/healthz", self.healthz),
                Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
            ],
            middleware=[Middleware(_Headers)],
            exception_handlers={HTTPException: self._http_error},
        )

    # -- sessions -------------------------------------------------------------------------
    async def _session(self, request: Request) -> tuple[User, str] | None:
        token = request.cookies.get(auth.SESSION_COOKIE)
        if not token or len(token) > 128:
            return None
        idle = timedelta(minutes=self.settings.idle_minutes)
        found = await self.store.run(self.store.console.session, auth.token_hash(token), idle=idle)
        return (as_user(found[0]), found[1]) if found else None

    async def _require(self, request: Request, *roles: Role) -> tuple[User, str]:
        found = await self._session(request)
        if found is None:
            raise HTTPException(303, headers={"Location": "/login"})
        if roles and found[0].role not in roles:
            raise HTTPException(403)
        return found

    async def _form(self, request: Request, csrf: str) -> dict[str, str]:
        form = await request.form(max_files=0, max_fields=50, max_part_size=MAX_FORM_BYTES)
        values = {k: v for k, v in form.items() if isinstance(v, str)}
        if not auth.same(values.get("csrf", ""), csrf):
            raise HTTPException(403, detail="bad or missing CSRF token")
        return values

    def _render(
        self, request: Request, name: str, user: User | None, status: int = 200, **context: Any
    ) -> Response:
        language = user.language if user else i18n.pick(request.headers.get("accept-language", ""))
        response: Response = self.templates.TemplateResponse(
            request,
            name,
            {"user": user, "_": i18n.translator(language), "lang": language, **context},
            status_code=status,
        )
        return response

    async def _http_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code in (301, 302, 303) and exc.headers:
            return RedirectResponse(exc.headers["Location"], status_code=303)
        found = await self._session(request) if exc.status_code == 403 else None
        return self._render(
            request, "error.html", found[0] if found else None, status=exc.status_code, detail=exc.detail
        )

    # -- login ---------------------------------------------------------------------------
    async def home(self, request: Request) -> Response:
        user, _ = await self._require(request)
        page = {Role.AGENT: "/agent", Role.QA: "/qa", Role.COMPLIANCE: "/complaints"}.get(
            user.role, "/supervisor"
        )
        return RedirectResponse(page, status_code=303)

    async def login_page(self, request: Request, error: str | None = None, status: int = 200) -> Response:
        token = auth.new_token()
        response = self._render(request, "login.html", None, status=status, csrf=token, error=error)
        response.set_cookie(
            LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=self.settings.secure_cookies
        )
        return response

    async def login(self, request: Request) -> Response:
        address = request.client.host if request.client else ""
        form = await self._form(request, request.cookies.get(LOGIN_CSRF_COOKIE) or "-")
        failures = self._failures[address]
        now = time.monotonic()
        while failures and failures[0] < now - 60:
            failures.popleft()
        if len(failures) >= MAX_FAILURES:
            return await self.login_page(request, "Too many failed logins: wait a minute.", 429)
        username = form.get("username", "").strip().lower()[:64]
        info = (
            await self.store.run(self.store.console.user, username) if auth.USERNAME.match(username) else None
        )
        password = form.get("password", "")
        ok = await asyncio.to_thread(
            auth.verify_password, info.password_hash if info else auth.DUMMY_HASH, password
        )
        if info is None or not ok or not info.active:
            failures.append(now)
            await self.store.run(self.store.console.login_failed, username or "?", address)
            return await self.login_page(request, "Wrong user name or password.", 401)
        token, csrf = auth.new_token(), auth.new_token()
        lifetime = timedelta(hours=self.settings.session_hours)
        await self.store.run(
            self.store.console.login,
            info,
            token_hash=auth.token_hash(token),
            csrf=csrf,
            lifetime=lifetime,
            address=address,
        )
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            auth.SESSION_COOKIE,
            token,
            max_age=int(lifetime.total_seconds()),
            httponly=True,
            samesite="strict",
            secure=self.settings.secure_cookies,
        )
        response.delete_cookie(LOGIN_CSRF_COOKIE)
        return response

    async def logout(self, request: Request) -> Response:
        user, csrf = await self._require(request)
        await self._form(request, csrf)
        if user.is_agent:
            try:
                await self.desk.set_state(user, "offline")
            except ConsoleError as e:
                log.warning("agent %s logged out but stays on the queues: %s", user.username, e)
        token = request.cookies.get(auth.SESSION_COOKIE, "")
        await self.store.run(self.store.console.logout, auth.token_hash(token), user.username)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(auth.SESSION_COOKIE)
        return response

    # -- the agent's screen ---------------------------------------------------------------
    async def agent_page(self, request: Request) -> Response:
        user, csrf = await self._require(request, Role.AGENT)
        state = await self.store.run(self.store.console.agent_state, user.id)
        follow_ups = await self.store.run(self.store.console.follow_ups, user.id)
        asked = await self.store.run(self.store.inspections.follow_ups, assignee=user.username)
        return self._render(
            request,
            "agent.html",
            user,
            csrf=csrf,
            state=state,
            follow_ups=follow_ups,
            quality_follow_ups=asked,
            error=request.query_params.get("error", "")[:200],
            message=request.query_params.get("m"),
            refused=request.query_params.get("refused", "")[:200],
            local=_local_time,
        )

    async def agent_state(self, request: Request) -> Response:
        user, csrf = await self._require(request, Role.AGENT)
        form = await self._form(request, csrf)
        try:
            await self.desk.set_state(user, form.get("state", ""), form.get("reason", ""))
        except ConsoleError as e:
            raise HTTPException(400, detail=e.message) from e
        return RedirectResponse("/agent", status_code=303)

    async def agent_events(self, request: Request) -> Response:
        user, _ = await self._require(request, Role.AGENT)
        return StreamingResponse(
            self._stream(request, user),
            media_type="text/event-stream",
            headers={"X-Accel-Buffering": "no", "Cache-Control": "no-store"},
        )

    async def _stream(self, request: Request, user: User) -> AsyncIterator[str]:
        async with self.desk.screen(user) as updates:
            await self.desk.beat(user)
            yield "retry: 1000\n\n"
            while not self.closing.is_set():
                try:
                    push = await asyncio.wait_for(updates.get(), KEEPALIVE)
                except TimeoutError:
                    if await request.is_disconnected():
                        return
                    await self.desk.beat(user)
                    yield ": alive\n\n"
                    continue
                if push.kind == "closing":
                    return
                yield f"event: {push.kind}\ndata: {json.dumps(push.data)}\n\n"

    async def lead_call(self, request: Request) -> Response:
        """An agent's preview call to one of their follow-ups (the robot's rules, audited)."""
        user, csrf = await self._require(request, Role.AGENT)
        await self._form(request, csrf)
        if self.preview is None:
            raise HTTPException(503, detail="preview calls need the PBX")
        try:
            call_id = await self.preview.call(user, request.path_params["lead_id"])
        except ConsoleError as e:
            return RedirectResponse(f"/agent?refused={quote(e.message)}", status_code=303)
        return RedirectResponse(f"/calls/{call_id}", status_code=303)

    # -- supervisors ---------------------------------------------------------------------
    async def supervisor_page(self, request: Request) -> Response:
        user, csrf = await self._require(request, *auth.SEES_ALL_CALLS)
        return self._render(request, "supervisor.html", user, csrf=csrf, **await self._board_context(user))

    async def _board_context(self, user: User) -> dict[str, Any]:
        return {
            "board": await supervisor.board(self.store, self.desk, default_queue=self.default_queue),
            "steers": user.role in auth.STEERS_CAMPAIGNS,
            "duration": wallboard.duration,
            "percent": wallboard.percent,
            "grades": wallboard.GRADES,
            "windows": wallboard.WINDOWS,
        }

    async def supervisor_events(self, request: Request) -> Response:
        """The wall-board, re-rendered every ``BOARD_EVERY`` seconds while the page is open."""
        user, csrf = await self._require(request, *auth.SEES_ALL_CALLS)

        async def stream() -> AsyncIterator[str]:
            yield "retry: 1000\n\n"
            while not self.closing.is_set():
                started = time.monotonic()
                context = await self._board_context(user)
                html = self.templates.get_template("_board.html").render(
                    user=user, csrf=csrf, _=i18n.translator(user.language), lang=user.language, **context
                )
                data = json.dumps(
                    {"html": html, "at": time.time(), "build_ms": (time.monotonic() - started) * 1000}
                )
                yield f"event: board\ndata: {data}\n\n"
                try:
                    await asyncio.wait_for(self.closing.wait(), BOARD_EVERY)
                except TimeoutError:
                    if await request.is_disconnected():
                        return

        return StreamingResponse(
            stream(),
            media_type="text/event-stream",
            headers={"X-Accel-Buffering": "no", "Cache-Control": "no-store"},
        )

    async def campaign_state(self, request: Request) -> Response:
        user, csrf = await self._require(request, *auth.STEERS_CAMPAIGNS)
        form = await self._form(request, csrf)
        state = form.get("state", "")
        if state not in ("running", "paused", "stopped"):
            raise HTTPException(400, detail="state must be running, paused or stopped")
        try:
            await self.store.run(
                self.store.campaigns.set_state,
                request.path_params["campaign_id"][:64],
                state,
                user.username,
                "from the console",
            )
        except VoicebotError as e:
            raise HTTPException(400, detail=e.message) from e
        return RedirectResponse("/supervisor", status_code=303)

    async def campaign_pacing(self, request: Request) -> Response:
        """A supervisor changes a campaign's pacing: its channels and whether it waits for agents."""
        user, csrf = await self._require(request, *auth.STEERS_CAMPAIGNS)
        form = await self._form(request, csrf)
        campaign_id = request.path_params["campaign_id"][:64]
        try:
            info = await self.store.run(self.store.campaigns.campaign, campaign_id)
            definition = dict(info.definition)
            pacing = {**(definition.get("pacing") or {}), "mode": form.get("mode", "robot")}
            pacing["max_channels"] = int(form.get("max_channels", ""))
            definition["pacing"] = pacing
            Campaign.model_validate(definition)  # the same checks as a campaign file's
            await self.store.run(
                self.store.campaigns.save_campaign, info.id, info.name, definition, user.username
            )
        except (ValueError, ValidationError, VoicebotError) as e:
            raise HTTPException(400, detail=f"pacing not changed: {e}") from e
        return RedirectResponse("/supervisor", status_code=303)

    async def healthz(self, request: Request) -> Response:
        return Response("ok\n", media_type="text/plain")
