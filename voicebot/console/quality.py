"""The console's pages for quality inspection (a part of :class:`voicebot.console.web.Console`):
the inspectors' queue, a call's inspection with the rubric (the automatic items pre-filled, the
manual ones by ear), disputes by the agent or a supervisor, and the sign-off.

Inspectors (role qa) score; the agent the call was handed to, a supervisor or an admin may
dispute a scored call; a qa, supervisor or admin other than the inspector settles it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from voicebot.console.auth import Role, User
from voicebot.console.part import ConsolePart
from voicebot.errors import ConsoleError
from voicebot.store import CallRecord
from voicebot.store.inspections import FOLLOW_UP_KINDS, Inspection

INSPECTORS = (Role.QA, Role.SUPERVISOR, Role.ADMIN, Role.COMPLIANCE)
SETTLES = (Role.QA, Role.SUPERVISOR, Role.ADMIN)
DISPUTES = (Role.AGENT, Role.SUPERVISOR, Role.ADMIN)
STATES = ("queued", "scored", "disputed", "settled")


def score_form(
    findings: list[dict[str, Any]], total: float, form: dict[str, str]
) -> tuple[float, dict[str, float]]:
    """The inspector's score from the form: the points each rule loses (``lost_RULE``), each
    between 0 and what the rule can cost; a fatal rule lost scores 0. Pure."""
    items: dict[str, float] = {}
    fatal = False
    for f in findings:
        rule, points = str(f["rule"]), float(f.get("points") or 0.0)
        raw = form.get(f"lost_{rule}", "0").strip() or "0"
        try:
            lost = float(raw)
        except ValueError:
            raise ConsoleError(f"{raw!r} is not a number of points", hint=f"lost_{rule}") from None
        if not math.isfinite(lost) or not 0 <= lost <= max(points, 1.0 if f.get("fatal") else 0.0):
            raise ConsoleError(f"{f['title']}: between 0 and {points:g} points", hint=f"lost_{rule}")
        items[rule] = lost
        fatal = fatal or (bool(f.get("fatal")) and lost > 0)
    return (0.0 if fatal else max(0.0, round(total - sum(items.values()), 2))), items


class QualityPages(ConsolePart):
    if TYPE_CHECKING:

        async def _call_context(self, user: User, record: CallRecord) -> dict[str, Any]: ...

    async def qa_queue(self, request: Request) -> Response:
        user, csrf = await self._require(request, *INSPECTORS)
        state = request.query_params.get("state") or None
        if state not in (None, *STATES):
            raise HTTPException(404)
        rows = await self.store.run(self.store.inspections.queue, state=state)
        follow_ups = await self.store.run(self.store.inspections.follow_ups)
        return self._render(
            request, "qa.html", user, csrf=csrf, rows=rows, state=state, states=STATES, follow_ups=follow_ups
        )

    async def _inspection(self, request: Request, user: User) -> tuple[Inspection, CallRecord]:
        found = await self.store.run(self.store.inspections.get, request.path_params["inspection_id"])
        if found is None:
            raise HTTPException(404)
        allowed = user.role in INSPECTORS or (
            user.role is Role.AGENT
            and await self.store.run(self.store.console.handed_to, found.call_id, user.id)
        )
        await self.store.run(self.store.console.viewed, user.username, found.call_id, allowed=bool(allowed))
        if not allowed:
            raise HTTPException(403, detail="Not allowed.")
        record = await self.store.get_call(found.call_id)
        if record is None:
            raise HTTPException(404)
        return found, record

    async def _inspection_page(
        self, request: Request, user: User, csrf: str, found: Inspection, record: CallRecord, **extra: Any
    ) -> Response:
        context = await self._call_context(user, record)
        automatic = context["inspections"][0] if context["inspections"] else None
        follow_ups = await self.store.run(
            self.store.inspections.follow_ups, state=None, inspection_id=found.id
        )
        return self._render(
            request,
            "inspection.html",
            user,
            csrf=csrf,
            inspection=found,
            automatic=automatic,
            may_score=user.role is Role.QA and found.state in ("queued", "scored"),
            may_dispute=user.role in DISPUTES and found.state == "scored",
            may_settle=user.role in SETTLES and found.state in ("scored", "disputed"),
            may_follow_up=user.role in SETTLES and found.passed is False,
            follow_ups=follow_ups,
            follow_up_kinds=FOLLOW_UP_KINDS,
            **context,
            **extra,
        )

    async def inspection_page(self, request: Request) -> Response:
        user, csrf = await self._require(request)
        found, record = await self._inspection(request, user)
        return await self._inspection_page(request, user, csrf, found, record)

    async def inspection_action(self, request: Request) -> Response:
        """POST /qa/ID/score|dispute|settle."""
        user, csrf = await self._require(request)
        form = await self._form(request, csrf)
        found, record = await self._inspection(request, user)
        action = request.path_params["action"]
        repo = self.store.inspections
        try:
            if action == "score":
                if user.role is not Role.QA:
                    raise HTTPException(403, detail="Only an inspector scores a call.")
                results = await self.store.run(self.store.quality.results, record.id)
                findings = results[0].findings if results else []
                total = results[0].total if results else 10.0
                score, items = score_form(findings, total, form)
                passed = {"pass": True, "fail": False}.get(form.get("verdict", ""))
                if passed is None:
                    raise ConsoleError("mark the call pass or fail", hint="verdict")
                args = {"inspector": user.username, "score": score, "passed": passed, "items": items}
                await self.store.run(repo.score, found.id, comment=form.get("comment", ""), **args)
            elif action == "dispute":
                if user.role not in DISPUTES:
                    raise HTTPException(403, detail="Not allowed.")
                await self.store.run(repo.dispute, found.id, by=user.username, reason=form.get("reason", ""))
            elif action == "settle":
                if user.role not in SETTLES:
                    raise HTTPException(403, detail="Not allowed.")
                passed = form.get("verdict") == "pass"
                await self.store.run(
                    repo.settle, found.id, by=user.username, passed=passed, comment=form.get("comment", "")
                )
            elif action == "follow-up":
                if user.role not in SETTLES:
                    raise HTTPException(403, detail="Not allowed.")
                await self.store.run(
                    repo.open_follow_up,
                    found.id,
                    kind=form.get("kind", ""),
                    note=form.get("note", ""),
                    by=user.username,
                )
            else:
                raise HTTPException(404)
        except ConsoleError as e:
            return await self._inspection_page(
                request, user, csrf, found, record, error=e.message, field=e.hint, status=400
            )
        return RedirectResponse(f"/qa/{found.id}?m={action}", status_code=303)

    async def follow_up_done(self, request: Request) -> Response:
        """POST /qa/follow-ups/ID/done: an inspector, or the agent it is for, says what was done."""
        user, csrf = await self._require(request, *INSPECTORS, Role.AGENT)
        form = await self._form(request, csrf)
        back = "/agent" if user.role is Role.AGENT else "/qa"
        try:
            await self.store.run(
                self.store.inspections.finish_follow_up,
                request.path_params["follow_up_id"],
                by=user.username,
                answer=form.get("answer", ""),
                agent=user.role is Role.AGENT,
            )
        except ConsoleError as e:
            return RedirectResponse(f"{back}?error={quote(e.message)}#follow-ups", status_code=303)
        return RedirectResponse(f"{back}?m=follow-up-done#follow-ups", status_code=303)
