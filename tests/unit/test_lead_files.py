"""Lead files as call centers really have them: Excel CSV in GBK, BOMs, stray spaces, +86, XLSX."""

from datetime import UTC, datetime

import openpyxl
import pytest

from voicebot.campaign.leads import normalize_number, parse_leads, read_table
from voicebot.errors import LeadFileError

CHINESE = (
    "姓名,手机号,授权来源,授权时间,城市,备注\r\n"
    "张三,+86 138 0013 8000,官网表单,2026/11/01,北京,老客户\r\n"
    "\r\n"
    "李四, 139-0013-9000 ,,,上海,\r\n"
    "王五,1234,官网表单,2026-11-01,广州,\r\n"
    "赵六,0086 13700137000,活动登记,2026年11月2日,深圳,\r\n"
    "张三,13800138000,,,北京朝阳,回访\r\n"
    "钱七,010-6552 9988,官网表单,昨天,北京,\r\n"
)


def parse(path, **kw):
    return parse_leads(read_table(path), **kw)


def test_gbk_csv_from_excel(tmp_path):
    path = tmp_path / "leads.csv"
    path.write_bytes(CHINESE.encode("gbk"))
    result = parse(path)
    assert result.columns == {
        "phone": "手机号",
        "name": "姓名",
        "consent_source": "授权来源",
        "consent_at": "授权时间",
    }
    phones = [lead.phone for lead in result.leads]
    assert phones == ["+8613800138000", "+8613900139000", "+8613700137000"]
    assert [(r.line, r.reason.split(" (")[0]) for r in result.rejects] == [
        (5, "'1234' is not a valid CN number"),
        (8, "consent time '昨天' is not a date"),
    ]
    assert result.merged == [(7, 2)]  # the second 张三 row merged into line 2
    zhang = result.leads[0]
    assert zhang.fields == {"城市": "北京朝阳", "备注": "回访"}  # the later row's values win, fields combined
    assert zhang.consent_source == "官网表单" and zhang.consent_at == datetime(2026, 11, 1, tzinfo=UTC)
    assert zhang.timezone == "Asia/Shanghai"  # from the number
    assert result.leads[1].consent_source is None  # 李四: no consent record
    assert result.leads[2].consent_at == datetime(2026, 11, 2, tzinfo=UTC)


def test_utf8_with_bom_and_utf16_tab_separated(tmp_path):
    bom = tmp_path / "bom.csv"
    bom.write_bytes(CHINESE.encode("utf-8-sig"))
    assert parse(bom).leads[0].phone == "+8613800138000"
    tabbed = tmp_path / "unicode.txt"
    tabbed.write_bytes(CHINESE.replace(",", "\t").encode("utf-16"))  # Excel's "Unicode text"
    result = parse(tabbed)
    assert len(result.leads) == 3 and [r.line for r in result.rejects] == [5, 8]


def test_xlsx_with_numbers_stored_as_numbers(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Name", "Mobile", "Consent", "Consent at", "Plan"])
    sheet.append(["Ann", 13800001001, "web form", datetime(2026, 11, 1, 9, 30), "gold"])
    sheet.append([None, None, None, None, None])
    sheet.append(["Bob", 13800002001.0, "", None, "silver"])
    sheet.append(["Cy", "+1 415 555 2671", "call-in", "2026-11-03", ""])
    path = tmp_path / "leads.xlsx"
    book.save(path)
    result = parse(path)
    assert [(lead.line, lead.phone) for lead in result.leads] == [
        (2, "+8613800001001"),
        (4, "+8613800002001"),
        (5, "+14155552671"),
    ]
    assert result.leads[0].fields == {"Plan": "gold"}
    assert result.leads[0].consent_at == datetime(2026, 11, 1, 9, 30, tzinfo=UTC)
    assert result.leads[2].timezone == "America/Los_Angeles"


def test_column_mapping_and_consent_for_the_whole_file(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text(
        "客户电话;客户称呼;tz\n13800001001;Ann;Asia/Urumqi\n13800001002;Bob;Mars/Base\n", encoding="utf-8"
    )
    result = parse(path, columns={"phone": "客户电话", "name": "客户称呼"}, consent_source="list from CRM")
    assert result.leads[0].timezone == "Asia/Urumqi" and result.leads[0].consent_source == "list from CRM"
    assert result.rejects[0].line == 3 and "unknown time zone 'Mars/Base'" in result.rejects[0].reason


def test_files_that_cannot_be_imported(tmp_path):
    path = tmp_path / "nophone.csv"
    path.write_text("name,city\nAnn,Beijing\n", encoding="utf-8")
    with pytest.raises(LeadFileError, match="no phone column") as e:
        parse(path)
    assert "--map phone=" in str(e.value)
    with pytest.raises(LeadFileError, match="no column 'Handy'"):
        parse(path, columns={"phone": "Handy"})
    empty = tmp_path / "empty.csv"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(LeadFileError, match="no rows"):
        parse(empty)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    with pytest.raises(LeadFileError, match="not a readable XLSX"):
        read_table(broken)


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("13800138000", "+8613800138000"),
        ("+86 138 0013 8000", "+8613800138000"),
        ("0086-138-0013-8000", "+8613800138000"),
        ("8613800138000", "+8613800138000"),
        ("(010) 6552 9988", "+861065529988"),
        ("0755-8888 8888", "+8675588888888"),
        ("138\u30000013\u30008000", "+8613800138000"),  # full-width spaces
    ],
)
def test_numbers_as_people_write_them(raw, e164):
    assert normalize_number(raw) == e164


def test_invalid_numbers():
    for raw in ("1234", "1380013800", "abc"):
        with pytest.raises(ValueError):
            normalize_number(raw)
