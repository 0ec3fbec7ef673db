"""The console's reports page (a part of :class:`voicebot.console.web.Console`): a campaign (or
all) over a window of days, by day, week or month: the table, charts of the calls by grade and of
the QA pass rate, the script funnel, the agents' scorecards; downloads as CSV, Excel and PDF,
each audited. For supervisors, inspectors, compliance staff and admins."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import cast
from zoneinfo import ZoneInfo

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from voicebot.console.auth import Role
from voicebot.console.part import ConsolePart
from voicebot.reports import charts
from voicebot.reports.files import csv_bytes, xlsx_bytes
from voicebot.reports.pdf import render_pdf
from voicebot.reports.periods import days_label
from voicebot.reports.render import num, pct
from voicebot.reports.report import Report, build
from voicebot.reports.tables import GRADES, Period

READERS = (Role.SUPERVISOR, Role.QA, Role.COMPLIANCE, Role.ADMIN)
#: The longest window the console reports at once (the command line has no limit).
MAX_DAYS = 92
EXPORTS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


@dataclass(frozen=True, slots=True)
class Query:
    """What the page was asked for (query parameters, checked)."""

    campaign_id: str | None
    by: Period
    first: date
    last: date

    @classmethod
    def parse(cls, params: dict[str, str], today: date) -> Query:
        by = params.get("by") or "day"
        if by not in ("day", "week", "month"):
            raise HTTPException(400, detail="by: day, week or month")
        try:
            last = date.fromisoformat(params["until"]) if params.get("until") else today
            first = date.fromisoformat(params["since"]) if params.get("since") else last - timedelta(days=29)
        except ValueError:
            raise HTTPException(400, detail="since and until are dates like 2026-12-01") from None
        if last < first or (last - first).days >= MAX_DAYS:
            raise HTTPException(400, detail=f"from 1 to {MAX_DAYS} days, the first before the last")
        campaign = (params.get("campaign") or "").strip()[:64] or None
        return cls(campaign, cast("Period", by), first, last)

    def link(self, export: str) -> str:
        campaign = f"&campaign={self.campaign_id}" if self.campaign_id else ""
        return f"/reports/export.{export}?by={self.by}&since={self.first}&until={self.last}{campaign}"


class ReportPages(ConsolePart):
    def _zone(self) -> str:
        return self.all_settings.reports.timezone

    async def _report(self, query: Query) -> Report:
        zone = ZoneInfo(self._zone())
        start = datetime.combine(query.first, datetime.min.time(), zone)
        end = datetime.combine(query.last + timedelta(days=1), datetime.min.time(), zone)
        facts = await self.store.run(self.store.reports.facts, start, end, query.campaign_id)
        return await asyncio.to_thread(
            build,
            facts,
            first=query.first,
            last=query.last,
            zone=self._zone(),
            by=query.by,
            campaign_id=query.campaign_id,
            weights=self.all_settings.reports.scorecard_weights,
        )

    def _today(self) -> date:
        return self.store.now().astimezone(ZoneInfo(self._zone())).date()

    async def reports_page(self, request: Request) -> Response:
        user, csrf = await self._require(request, *READERS)
        query = Query.parse(dict(request.query_params), self._today())
        report = await self._report(query)
        campaigns = await self.store.run(self.store.campaigns.campaigns)
        labels = [r.period if query.campaign_id else f"{r.period} {r.campaign_id}" for r in report.rows]
        grades = charts.stacked_bars(labels, [r.grades for r in report.rows], title="Answered calls by grade")
        top = report.funnel[0].reached if report.funnel else 0
        funnel = charts.horizontal_bars(
            [(s.node, s.reached / top, f"{s.reached} · {s.left} ended here") for s in report.funnel],
            title="Script funnel",
        )
        passing = charts.horizontal_bars(
            [
                (label, r.qa_pass_rate or 0.0, f"{r.qa_pass_rate:.0%} of {r.inspected}")
                for label, r in zip(labels, report.rows, strict=True)
                if r.qa_pass_rate is not None
            ],
            title="QA pass rate",
        )
        return self._render(
            request,
            "reports.html",
            user,
            csrf=csrf,
            query=query,
            report=report,
            campaigns=[c.id for c in campaigns],
            grades_chart=grades,
            funnel_chart=funnel if report.funnel else "",
            pass_chart=passing if any(r.qa_pass_rate is not None for r in report.rows) else "",
            exports={kind: query.link(kind) for kind in EXPORTS},
            pct=pct,
            num=num,
            grades=GRADES,
        )

    async def report_export(self, request: Request) -> Response:
        user, _ = await self._require(request, *READERS)
        kind = request.path_params["kind"]
        if kind not in EXPORTS:
            raise HTTPException(404)
        query = Query.parse(dict(request.query_params), self._today())
        report = await self._report(query)
        if kind == "csv":
            body = csv_bytes(report.sheets()["campaigns"])
        elif kind == "xlsx":
            body = await asyncio.to_thread(xlsx_bytes, report.sheets())
        else:
            body = await asyncio.to_thread(render_pdf, report)
        await self.store.run(
            self.store.campaigns.note,
            user.username,
            "report_export",
            f"{kind} by {query.by}, {query.first} to {query.last}",
            campaign_id=query.campaign_id,
        )
        name = f"voicebot-{query.campaign_id or 'all'}-{days_label(query.first, query.last)}.{kind}"
        return Response(
            body,
            media_type=EXPORTS[kind],
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
