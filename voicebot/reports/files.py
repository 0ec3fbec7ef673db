"""A report's tables as file bytes: CSV (one table) and an Excel workbook (one sheet per table).
Pure: the caller writes them to disk or sends them."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

Records = Sequence[Mapping[str, Any]]


def columns(records: Records) -> list[str]:
    return list(dict.fromkeys(key for record in records for key in record))


def csv_bytes(records: Records) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=columns(records) or ["period"])
    writer.writeheader()
    writer.writerows(records)
    return out.getvalue().encode("utf-8")


def xlsx_bytes(sheets: Mapping[str, Records]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for name, records in sheets.items():
        sheet = book.create_sheet(name)
        names = columns(records)
        sheet.append(names)
        for record in records:
            sheet.append([record.get(c) for c in names])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
