"""Lead files: CSV (any encoding Excel writes, BOM or not) and XLSX, read into checked leads.

``read_table`` is the I/O edge (bytes to rows with their line numbers);
``parse_leads`` is pure: column mapping, phone normalization with phonenumbers,
time zone from the row or the number, consent records, duplicates merged, every
rejected row kept with its line and reason. Nothing is written here.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as phone_zones

from voicebot.errors import LeadFileError

#: Header names that mean each field (lower case), English and Chinese as call centers write them.
HEADERS: dict[str, tuple[str, ...]] = {
    "phone": (
        "phone",
        "mobile",
        "number",
        "phone number",
        "tel",
        "telephone",
        "电话",
        "手机",
        "手机号",
        "手机号码",
        "号码",
        "电话号码",
        "联系电话",
        "联系方式",
    ),
    "name": ("name", "full name", "customer", "姓名", "客户", "客户姓名", "客户名称", "名字", "联系人"),
    "timezone": ("timezone", "time zone", "tz", "时区"),
    "region": ("region", "country", "国家", "地区代码"),
    "consent_source": ("consent", "consent source", "consent_source", "授权", "授权来源", "同意来源"),
    "consent_at": ("consent at", "consent_at", "consent time", "consent date", "授权时间", "同意时间"),
    "consent_evidence": ("consent evidence", "consent_evidence", "evidence", "授权凭证", "凭证"),
}
#: Columns read from a spreadsheet (lead files have a handful; the rest are ignored).
MAX_COLUMNS = 256
#: The largest CSV lead file read (about two million rows of a few columns).
MAX_TEXT_BYTES = 256 * 2**20
#: Rows read from one lead file (Excel's own limit is 1,048,576).
MAX_ROWS = 1_048_576
#: What openpyxl and the XML and zip layers under it raise for a damaged workbook.
_UNREADABLE = (OSError, EOFError, SyntaxError, KeyError, ValueError, TypeError, IndexError, AttributeError)
_NO = {"", "no", "n", "false", "0", "none", "否", "无", "不同意", "未授权"}
_PUNCTUATION = re.compile(r"[\s\-().\u3000（）]")


@dataclass(frozen=True, slots=True)
class ImportedLead:
    line: int
    phone: str  # E.164
    name: str = ""
    timezone: str = ""
    fields: Mapping[str, str] = field(default_factory=dict)
    consent_source: str | None = None
    consent_at: datetime | None = None
    consent_evidence: str | None = None


@dataclass(frozen=True, slots=True)
class Reject:
    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class ParsedLeads:
    leads: list[ImportedLead]
    rejects: list[Reject]
    merged: list[tuple[int, int]]  # (line, the line it was merged into)
    columns: Mapping[str, str]  # field -> the header it came from


def read_table(
    path: Path, *, encoding: str | None = None, sheet: str | None = None
) -> list[tuple[int, list[str]]]:
    """Rows of a CSV or XLSX file with their line (row) numbers; blank rows dropped."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path, sheet)
    try:
        if path.stat().st_size > MAX_TEXT_BYTES:
            raise LeadFileError(
                f"{path}: larger than {MAX_TEXT_BYTES // 2**20} MiB", hint="split it into several files"
            )
        raw = path.read_bytes()
    except OSError as e:
        raise LeadFileError(f"{path}: cannot read: {e.strerror}") from e
    text = _decode(raw, encoding, path)
    header = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max(",\t;|", key=header.count)  # the header names the columns: count its separators
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for record in reader:
            if any(cell.strip() for cell in record):
                rows.append((start, [cell.strip() for cell in record]))
            start = reader.line_num + 1
    except csv.Error as e:
        raise LeadFileError(f"{path}:{reader.line_num}: not valid CSV: {e}") from e
    return rows


def _decode(raw: bytes, encoding: str | None, path: Path) -> str:
    if encoding:
        try:
            return raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as e:
            raise LeadFileError(f"{path}: not readable as {encoding}: {e}", hint="check --encoding") from e
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")  # Excel's "Unicode text"
        except UnicodeDecodeError as e:
            raise LeadFileError(f"{path}: broken UTF-16 text (byte {e.start})", hint="save it again") from e
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030")  # Excel in China saves CSV as GBK; GB18030 is its superset
    except UnicodeDecodeError as e:
        raise LeadFileError(
            f"{path}: neither UTF-8 nor GBK text (byte {e.start})",
            hint="save as UTF-8 CSV or give --encoding",
        ) from e


def _read_xlsx(path: Path, sheet: str | None) -> list[tuple[int, list[str]]]:
    """The rows actually present: the size the sheet declares (``A1:XFD1048576`` costs ~15 CPU
    minutes when trusted) is ignored, and rows and columns are bounded."""
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (*_UNREADABLE, zlib.error, InvalidFileException, zipfile.BadZipFile) as e:
        raise LeadFileError(f"{path}: not a readable XLSX workbook: {e}") from e
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise LeadFileError(f"{path}: no sheet {sheet!r}", hint=f"sheets: {', '.join(book.sheetnames)}")
        ws = book[sheet] if sheet else book.worksheets[0]
        ws.reset_dimensions()  # read the rows there are, not the size the file declares
        rows = []
        for number, values in enumerate(ws.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1):
            if number > MAX_ROWS:
                raise LeadFileError(f"{path}: more than {MAX_ROWS:,} rows", hint="split the file")
            if any(values):  # in C: the million empty rows before a far row="1048576" cost ~1 s
                cells = [_cell(v) for v in values]
                while cells and not cells[-1]:
                    cells.pop()  # the padding up to MAX_COLUMNS
                if cells:
                    rows.append((number, cells))
        return rows
    except (*_UNREADABLE, zlib.error, zipfile.BadZipFile) as e:
        raise LeadFileError(f"{path}: the sheet cannot be read: {e}") from e
    finally:
        book.close()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone number Excel stored as a number
    if isinstance(value, date):  # a datetime too
        return value.isoformat()
    return str(value).strip()


def map_columns(header: list[str], overrides: Mapping[str, str] | None = None) -> dict[str, int]:
    """Field name -> column index, from the header row and the user's ``field=Header`` overrides."""
    lowered = [h.strip().lower() for h in header]
    columns: dict[str, int] = {}
    for name, wanted in (overrides or {}).items():
        if name not in HEADERS:
            raise LeadFileError(
                f"unknown field {name!r} in the column mapping", hint=f"fields: {', '.join(HEADERS)}"
            )
        if wanted.strip().lower() not in lowered:
            raise LeadFileError(
                f"no column {wanted!r} for {name}", hint=f"the header is: {', '.join(header)}"
            )
        columns[name] = lowered.index(wanted.strip().lower())
    for name, synonyms in HEADERS.items():
        if name not in columns:
            for i, h in enumerate(lowered):
                if h in synonyms and i not in columns.values():
                    columns[name] = i
                    break
    if "phone" not in columns:
        raise LeadFileError(
            f"no phone column in the header ({', '.join(header)})",
            hint="name it phone/电话/手机号, or map it: --map phone=YOUR_HEADER",
        )
    return columns


def parse_leads(
    rows: list[tuple[int, list[str]]],
    *,
    region: str = "CN",
    columns: Mapping[str, str] | None = None,
    consent_source: str | None = None,
    consent_evidence: str | None = None,
) -> ParsedLeads:
    """Check every row; the first row is the header. Pure."""
    if not rows:
        raise LeadFileError("the file has no rows", hint="the first row must be a header with a phone column")
    (_, header), body = rows[0], rows[1:]
    index = map_columns(header, columns)
    known = set(index.values())
    custom = {i: h for i, h in enumerate(header) if i not in known and h}
    leads: dict[str, ImportedLead] = {}
    rejects: list[Reject] = []
    merged: list[tuple[int, int]] = []
    for line, cells in body:
        values = {name: cells[i].strip() if i < len(cells) else "" for name, i in index.items()}
        try:
            lead = _lead(line, values, region or "CN", consent_source, consent_evidence)
        except ValueError as e:
            rejects.append(Reject(line, str(e)))
            continue
        extra = {h: cells[i] for i, h in custom.items() if i < len(cells) and cells[i]}
        lead = replace(lead, fields=extra)
        first = leads.get(lead.phone)
        if first is None:
            leads[lead.phone] = lead
        else:
            leads[lead.phone] = merge(first, lead)
            merged.append((line, first.line))
    return ParsedLeads(list(leads.values()), rejects, merged, {k: header[i] for k, i in index.items()})


def _lead(
    line: int,
    values: Mapping[str, str],
    region: str,
    consent_source: str | None,
    consent_evidence: str | None,
) -> ImportedLead:
    def get(name: str) -> str:
        return values.get(name, "")

    raw = get("phone")
    if not raw:
        raise ValueError("no phone number")
    row_region = (get("region") or region).upper()
    number = normalize_number(raw, row_region)
    zone = get("timezone")
    if zone:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {zone!r} (use an IANA name like Asia/Shanghai)") from None
    else:
        zone = zone_of(number)
    source = get("consent_source")
    if source.lower() in _NO:
        source = consent_source or ""
    at = _when(get("consent_at")) if source else None
    return ImportedLead(
        line=line,
        phone=number,
        name=get("name"),
        timezone=zone,
        consent_source=source or None,
        consent_at=at,
        consent_evidence=(get("consent_evidence") or consent_evidence or None) if source else None,
    )


def normalize_number(raw: str, region: str = "CN") -> str:
    """E.164 of a number as people write it (+86, 0086, spaces, dashes, area codes); ValueError if invalid."""
    cleaned = _PUNCTUATION.sub("", raw)
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    try:
        parsed = phonenumbers.parse(cleaned, region)
    except phonenumbers.NumberParseException as e:
        raise ValueError(f"{raw!r} is not a phone number ({e._msg})") from None
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError(f"{raw!r} is not a valid {region} number (check the digits or add the country code)")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def zone_of(e164: str) -> str:
    """The number's time zone when it has exactly one (a Chinese number: Asia/Shanghai), else ""."""
    zones = phone_zones.time_zones_for_number(phonenumbers.parse(e164))
    return zones[0] if len(zones) == 1 and zones[0] != "Etc/Unknown" else ""


_DATE = re.compile(r"^(\d{4})\D(\d{1,2})\D(\d{1,2})\D?(?:[ T]?(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def _when(text: str) -> datetime | None:
    """2026-11-01, 2026/11/1 14:30, 2026年11月2日, ISO with a zone; naive times are UTC."""
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        m = _DATE.match(text.strip())
        if m is None:
            raise ValueError(
                f"consent time {text!r} is not a date (write 2026-11-01 or 2026-11-01 14:30)"
            ) from None
        try:
            y, mo, d, hh, mm, ss = (int(g) if g else 0 for g in m.groups())
            parsed = datetime(y, mo, d, hh, mm, ss)
        except ValueError as e:
            raise ValueError(f"consent time {text!r} is not a date ({e})") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def merge(first: ImportedLead, later: ImportedLead) -> ImportedLead:
    """Two rows for one number: the later row's non-empty values win, custom fields are combined."""
    return ImportedLead(
        line=first.line,
        phone=first.phone,
        name=later.name or first.name,
        timezone=later.timezone or first.timezone,
        fields={**first.fields, **later.fields},
        consent_source=later.consent_source or first.consent_source,
        consent_at=later.consent_at if later.consent_source else first.consent_at,
        consent_evidence=later.consent_evidence if later.consent_source else first.consent_evidence,
    )


def describe_rejects(path: Path | str, rejects: Iterable[Reject], limit: int = 20) -> str:
    items = list(rejects)
    shown = [f"  {path}:{r.line}: {r.reason}" for r in items[:limit]]
    more = f"\n  ... and {len(items) - limit} more" if len(items) > limit else ""
    return "\n".join(shown) + more
