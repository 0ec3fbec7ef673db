"""A report as a PDF (fpdf2): the window, the campaigns by period, a bar chart of the calls and
their grades, the script funnel, the agents and their scorecards. Text stays text, so the PDF
can be searched and read back.

Campaign and agent names may be Chinese: the font is WenQuanYi Micro Hei (Debian's
``fonts-wqy-microhei``, which ``scripts/setup.sh`` installs), else DejaVu Sans (Latin only).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from voicebot.errors import VoicebotError
from voicebot.reports.charts import GRADE_COLOURS
from voicebot.reports.render import num, pct
from voicebot.reports.report import Report
from voicebot.reports.tables import GRADES

if TYPE_CHECKING:
    from fpdf import FPDF

#: (path, index in a font collection), the first that exists is used.
FONTS: tuple[tuple[Path, int], ...] = (
    (Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"), 0),
    (Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"), 0),
)


def font() -> tuple[Path, int]:
    for path, index in FONTS:
        if path.is_file():
            return path, index
    raise VoicebotError(
        "no font for PDF reports", hint="install Debian's fonts-wqy-microhei (scripts/setup.sh does)"
    )


def render_pdf(report: Report) -> bytes:
    from fpdf import FPDF

    path, index = font()
    doc = FPDF(orientation="landscape", format="A4")
    doc.set_auto_page_break(True, margin=12)
    doc.add_font("body", fname=str(path), collection_font_number=index)
    doc.set_title(f"voicebot report {report.title}")
    doc.set_creator("voicebot")
    doc.add_page()
    doc.set_font("body", size=15)
    doc.cell(text="voicebot report", new_x="LMARGIN", new_y="NEXT")
    doc.set_font("body", size=10)
    doc.cell(text=f"{report.title}: {report.calls} calls", new_x="LMARGIN", new_y="NEXT")
    doc.ln(3)

    _heading(doc, "Campaigns")
    _table(
        doc,
        [
            "period",
            "campaign",
            "calls",
            "connect",
            "talk s",
            *GRADES,
            "transfer",
            "abandoned",
            "conversion",
            "opt-out",
            "complaints",
            "QA pass",
            "QA avg",
        ],
        [
            [
                r.period,
                r.campaign_id,
                str(r.attempts),
                pct(r.connect_rate),
                num(r.talk_average, ".0f"),
                *(str(r.grades.get(g, 0)) for g in GRADES),
                pct(r.transfer_rate),
                pct(r.abandon_rate),
                pct(r.conversion),
                pct(r.opt_out_rate),
                pct(r.complaint_rate),
                pct(r.qa_pass_rate),
                num(r.qa_average),
            ]
            for r in report.rows
        ],
        (20, 34, 11, 14, 11, *(7,) * len(GRADES), 15, 18, 18, 14, 18, 15, 13),
    )
    if report.rows:
        _heading(doc, "Answered calls by grade")
        _grade_chart(doc, report)

    _heading(doc, "Script funnel (answered calls)")
    top = report.funnel[0].reached if report.funnel else 1
    _table(
        doc,
        ["node", "reached", "share", "ended here", "callee hung up"],
        [
            [s.node, str(s.reached), f"{s.reached / (top or 1):.0%}", str(s.left), str(s.ended_by_callee)]
            for s in report.funnel
        ],
    )
    _heading(doc, "Agents")
    _table(
        doc,
        ["period", "agent", "offered", "taken", "talk s", "conversion", "dispositions"],
        [
            [
                r.period,
                r.agent,
                str(r.offered),
                str(r.answered),
                f"{r.talk:.0f}",
                pct(r.conversion),
                ", ".join(f"{k} {v}" for k, v in r.dispositions.most_common()),
            ]
            for r in report.agents
        ],
        (20, 30, 14, 14, 14, 16, 100),
    )
    _heading(doc, f"Scorecards ({report.weights_text})")
    _table(
        doc,
        ["agent", "volume", "results", "quality", "feedback", "score"],
        [
            [
                c.agent,
                f"{c.volume:.0f}",
                f"{c.results:.0f}",
                f"{c.quality:.0f}",
                f"{c.feedback:.0f}",
                f"{c.total:.1f}",
            ]
            for c in report.scorecards
        ],
    )
    return bytes(doc.output())


def _heading(doc: FPDF, text: str) -> None:
    doc.ln(2)
    doc.set_font("body", size=12)
    doc.cell(text=text, new_x="LMARGIN", new_y="NEXT")
    doc.set_font("body", size=8)


def _table(
    doc: FPDF, header: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[int] | None = None
) -> None:
    if not rows:
        doc.cell(text="none in this period", new_x="LMARGIN", new_y="NEXT")
        return
    from fpdf.fonts import FontFace

    heading = FontFace(emphasis="", fill_color=(230, 230, 230))  # one font file: no bold
    with doc.table(
        first_row_as_headings=True,
        headings_style=heading,
        line_height=5,
        text_align="LEFT",
        col_widths=tuple(widths) if widths else None,
    ) as table:
        table.row(list(header))
        for row in rows:
            table.row(list(row))


def _grade_chart(doc: FPDF, report: Report) -> None:
    """One bar per campaign and period, stacked by grade, with its count."""
    rows = report.rows[-24:]
    most = max((sum(r.grades.values()) for r in rows), default=0) or 1
    x0, height, width = doc.l_margin, 40.0, min(12.0, 250.0 / len(rows))
    y0 = doc.get_y() + height
    if y0 + 20 > doc.h - doc.b_margin:
        doc.add_page()
        y0 = doc.get_y() + height
    for i, r in enumerate(rows):
        x, top = x0 + i * width, y0
        for g in GRADES:
            h = height * r.grades.get(g, 0) / most
            if h:
                doc.set_fill_color(*_rgb(GRADE_COLOURS[g]))
                doc.rect(x + 1, top - h, width - 2, h, style="F")
                top -= h
        doc.set_xy(x, y0 + 1)
        doc.set_font("body", size=6)
        doc.multi_cell(width, 3, f"{r.period[-5:]}\n{sum(r.grades.values())}", align="C")
    doc.set_xy(x0, y0 + 8)
    doc.set_font("body", size=8)
    for g in GRADES:
        doc.set_fill_color(*_rgb(GRADE_COLOURS[g]))
        doc.rect(doc.get_x(), doc.get_y() + 1, 3, 3, style="F")
        doc.set_x(doc.get_x() + 4)
        doc.cell(8, 5, g)
    doc.ln(6)


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)
