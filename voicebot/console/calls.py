"""The console's call pages: a call's page, the agent's screen-pop and the wrap-up form (a part of
:class:`voicebot.console.web.Console`). An agent opens only the calls handed to them; every view
is audited."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response

from voicebot.calls.live import is_call_id
from voicebot.console import auth, i18n, wrapup
from voicebot.console.auth import Role, User
from voicebot.console.part import ConsolePart
from voicebot.errors import ConsoleError, VoicebotError
from voicebot.qa.inspect import AgentView, CallView, inspect
from voicebot.qa.rubric import RUBRIC_FILE, Rubric, load_rubric
from voicebot.store import CallRecord

log = logging.getLogger(__name__)


class CallPages(ConsolePart):
    # -- the agent's part, inspected when the wrap-up is filed ---------------------------------
    def _rubric_of(self, record: CallRecord) -> Rubric | None:
        """The rubric of the call's script: its campaign's, else the worker's ``[call] script``."""
        script = self.all_settings.call.script
        if record.campaign_id:
            try:
                definition = self.store.campaigns.campaign(record.campaign_id).definition
            except VoicebotError:
                definition = {}
            script = Path(definition["script"]) if definition.get("script") else script
        if script is None or not (Path(script) / RUBRIC_FILE).exists():
            return None
        return load_rubric(Path(script))

    async def _inspect_agent_part(self, record: CallRecord, handoff_id: int, agent: str) -> None:
        """Score the agent's part of the call by its rubric's agent section (the hand-off and the
        wrap-up just filed); a rubric that cannot be read is logged, the wrap-up stands."""
        try:
            rubric = await self.store.run(self._rubric_of, record)
            if rubric is None or rubric.agent is None:
                return
            handoffs = await self.store.run(self.store.console.handoffs, record.id)
            (handoff,) = [h for h in handoffs if h.id == handoff_id]
            view = CallView(
                (), float(record.talk_seconds or 0.0), record.end_reason, agent=AgentView.of(handoff, agent)
            )
            result = inspect(rubric.agent, view)
            await self.store.run(
                self.store.quality.add_result,
                record.id,
                campaign_id=record.campaign_id,
                part="agent",
                **result.stored(),
            )
        except VoicebotError as e:
            log.error("the agent's part not inspected: %s", e, extra={"call_id": record.id})

    # -- calls ---------------------------------------------------------------------------
    async def _call_for(self, request: Request, user: User, action: str | None = "call_view") -> CallRecord:
        """The call, if this user may see it (audited as ``action``; a refusal always is)."""
        call_id = request.path_params["call_id"]
        if not is_call_id(call_id):  # a UUID, or an inbound call's Asterisk linkedid
            raise HTTPException(404)
        allowed = user.role in auth.SEES_ALL_CALLS or await self.store.run(
            self.store.console.handed_to, call_id, user.id
        )
        if action is not None or not allowed:
            viewed = self.store.console.viewed
            await self.store.run(
                viewed, user.username, call_id, allowed=allowed, action=action or "recording_play"
            )
        if not allowed:
            raise HTTPException(403, detail="Not allowed.")
        record = await self.store.get_call(call_id)
        if record is None:
            raise HTTPException(404)
        return record

    async def _call_context(self, user: User, record: CallRecord) -> dict[str, Any]:
        lead = None
        if record.lead_id and record.lead_id.isdigit():
            lead = await self.store.run(self.store.campaigns.lead, int(record.lead_id))
        handoffs = await self.store.run(self.store.console.handoffs, record.id)
        mine = [h for h in handoffs if h.user_id == user.id]
        earlier = None  # a lead calling back: what they and the robot said last time
        if record.direction == "inbound" and record.lead_id and not record.transcript:
            last = self.store.last_conversation_sync
            earlier = await self.store.run(last, record.lead_id, record.created_at)
        inspections = await self.store.run(self.store.quality.results, record.id)
        return {
            "call": record,
            "inspections": inspections,
            "earlier": earlier,
            "lead": lead,
            "handoffs": handoffs,
            "handoff": mine[-1] if mine else None,
            "grades": wrapup.GRADES,
            "dispositions": [d.value for d in wrapup.AgentDisposition],
            "introduction": i18n.introduction(
                user.language, self.settings.company or "voicebot", user.department, user.name
            ),
        }

    async def call_recording(self, request: Request) -> Response:
        """The call's recording, to play (``?download=1``: to save), for whoever may see the call;
        each play (its first byte range) and each download is audited."""
        user, _ = await self._require(request)
        download = request.query_params.get("download") == "1"
        first = request.headers.get("range", "bytes=0-").replace(" ", "").startswith("bytes=0-")
        action = "recording_download" if download else "recording_play" if first else None
        # (no action: the player asking for more of a recording it is playing, not audited again)
        record = await self._call_for(request, user, action)
        path = self._recording_file(record)
        if path is None:
            raise HTTPException(
                404, detail="No recording (none was made, or it was removed after its retention)."
            )
        media = "audio/ogg" if path.suffix in (".ogg", ".opus") else "audio/wav"
        name = f"call-{record.id}{path.suffix}" if download else None
        return FileResponse(path, media_type=media, filename=name, headers={"Cache-Control": "no-store"})

    def _recording_file(self, record: CallRecord) -> Path | None:
        """The recording on this host, only inside the PBX's monitor directory."""
        if not record.recording:
            return None
        monitor = self.all_settings.recording_path("").resolve()
        path = self.all_settings.recording_path(record.recording).resolve()
        return path if path.is_relative_to(monitor) and path.is_file() else None

    async def call_page(self, request: Request) -> Response:
        user, csrf = await self._require(request)
        record = await self._call_for(request, user)
        return self._render(request, "call.html", user, csrf=csrf, **await self._call_context(user, record))

    async def call_pop(self, request: Request) -> Response:
        user, csrf = await self._require(request, Role.AGENT)
        record = await self._call_for(request, user)
        return self._render(request, "pop.html", user, csrf=csrf, **await self._call_context(user, record))

    async def call_wrapup(self, request: Request) -> Response:
        user, csrf = await self._require(request, Role.AGENT)
        form = await self._form(request, csrf)
        record = await self._call_for(request, user)
        context = await self._call_context(user, record)
        handoff, lead = context["handoff"], context["lead"]
        if handoff is None:
            raise HTTPException(403, detail="Not allowed.")
        try:
            filed = wrapup.parse(
                form,
                robot_grade=record.grade,
                zone=(lead.timezone if lead and lead.timezone else "UTC"),
                now=self.store.now(),
            )
        except ConsoleError as e:
            return self._render(
                request, "call.html", user, status=400, csrf=csrf, error=e.message, field=e.hint, **context
            )
        change = wrapup.lead_change(filed)
        if change.do_not_call and lead is not None:
            await self.store.run(
                self.store.campaigns.dnc_add,
                [lead.phone],
                reason="asked the agent not to be called",
                actor=user.username,
                call_id=record.id,
            )
        await self.store.run(
            self.store.console.wrap_up,
            handoff.id,
            user_id=user.id,
            username=user.username,
            disposition=filed.disposition.value,
            grade=filed.grade,
            fields=filed.fields,
            notes=filed.notes,
            callback_at=filed.callback_at,
            callback_user_id=user.id if filed.callback_mine else None,
            lead_id=lead.id if lead else None,
            lead_status=change.status.value,
            lead_next_at=change.next_at,
            lead_reason=change.reason,
        )
        await self._inspect_agent_part(record, handoff.id, user.username)
        if form.get("ready") == "on":
            try:
                await self.desk.set_state(user, "ready")
            except ConsoleError as e:
                log.warning("agent %s: not ready after wrap-up: %s", user.username, e)
        return RedirectResponse("/agent?m=saved", status_code=303)
