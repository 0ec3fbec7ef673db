"""The console's complaints pages (a part of :class:`voicebot.console.web.Console`): the list,
overdue ones in red, a new complaint, and each one moved to closure. For compliance staff,
supervisors and admins; every step is audited by the store."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from voicebot.campaign.leads import normalize_number
from voicebot.console.auth import Role, User
from voicebot.console.part import ConsolePart
from voicebot.errors import ConsoleError
from voicebot.qa import complaints as rules

HANDLERS = (Role.COMPLIANCE, Role.SUPERVISOR, Role.ADMIN)


class ComplaintPages(ConsolePart):
    async def _complaints_page(self, request: Request, user: User, csrf: str, **extra: Any) -> Response:
        rows = await self.store.run(self.store.campaigns.complaints)
        now = self.store.now()
        return self._render(
            request,
            "complaints.html",
            user,
            csrf=csrf,
            rows=rows,
            overdue={c.id for c in rows if c.overdue(now)},
            channels=rules.CHANNELS,
            categories=self.all_settings.complaints.categories,
            severities=rules.SEVERITIES,
            moves={state: sorted(rules.MOVES[state]) for state in rules.STATES},
            **extra,
        )

    async def complaints_page(self, request: Request) -> Response:
        user, csrf = await self._require(request, *HANDLERS)
        return await self._complaints_page(request, user, csrf)

    async def complaint_add(self, request: Request) -> Response:
        user, csrf = await self._require(request, *HANDLERS)
        form = await self._form(request, csrf)
        try:
            phone = form.get("phone", "").strip()
            if phone:
                try:
                    phone = normalize_number(phone, self.all_settings.dial.default_region)
                except ValueError as e:
                    raise ConsoleError(str(e), hint="phone") from None
            added = await self.store.run(
                self.store.campaigns.complaint_add,
                channel=form.get("channel", ""),
                category=form.get("category", ""),
                severity=form.get("severity", ""),
                description=form.get("description", ""),
                phone=phone or None,
                call_id=form.get("call_id", "").strip() or None,
                agent=form.get("agent", "").strip() or None,
                urgent=form.get("urgent") == "on",
                keep_calling=form.get("keep_calling", ""),
                actor=user.username,
                due_hours=self.all_settings.complaints.due_hours,
                categories=self.all_settings.complaints.categories,
            )
        except ConsoleError as e:
            return await self._complaints_page(request, user, csrf, error=e.message, field=e.hint, status=400)
        return RedirectResponse(f"/complaints?m=added#complaint-{added.id}", status_code=303)

    async def complaint_move(self, request: Request) -> Response:
        user, csrf = await self._require(request, *HANDLERS)
        form = await self._form(request, csrf)
        complaint_id = request.path_params["complaint_id"]
        try:
            if form.get("satisfaction"):
                try:
                    score = int(form["satisfaction"])
                except ValueError:
                    raise ConsoleError("satisfaction is 1 to 5", hint="satisfaction") from None
                await self.store.run(
                    self.store.campaigns.complaint_satisfaction, complaint_id, score, actor=user.username
                )
            else:
                await self.store.run(
                    self.store.campaigns.complaint_move,
                    complaint_id,
                    form.get("state", ""),
                    actor=user.username,
                    answer=form.get("answer", ""),
                )
        except ConsoleError as e:
            return await self._complaints_page(request, user, csrf, error=e.message, field=e.hint, status=400)
        return RedirectResponse(f"/complaints?m=saved#complaint-{complaint_id}", status_code=303)
