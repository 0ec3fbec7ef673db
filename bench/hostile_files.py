"""Hostile files: time and peak memory of the worst file each loader accepts or refuses.
Prints figures, asserts nothing (the tests in tests/unit/test_hostile_files.py and
tests/unit/test_fuzz_files.py hold the bounds).

    .venv/bin/python bench/hostile_files.py

Each case runs in its own Python process: once timed (CPU seconds), once under tracemalloc
(the peak of the memory the load allocated, imports excluded).
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAD = "script: x\ncompany: y\nstart: a\n"
LAUGHS = 'l0: &a0 ["lol"]\n' + "".join(f"l{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 9))

LOADERS = {
    "flow": "from voicebot.dialog.flow import load_flow as load",
    "nlu": "from voicebot.dialog.intents import load_nlu\nload = lambda p: load_nlu([p])",
    "campaign": "from voicebot.campaign.definition import load_campaign as load",
    "settings": "from voicebot.config import load_settings as load",
    "leads": (
        "from voicebot.campaign.leads import read_table, parse_leads\n"
        "load = lambda p: parse_leads(read_table(p))"
    ),
}

CHILD = """
import json, sys, time, tracemalloc
from pathlib import Path
{imports}
from voicebot.errors import VoicebotError
def once():
    try:
        load(Path(sys.argv[1]))
        return "accepted"
    except VoicebotError as e:
        return "refused: " + str(e).splitlines()[0].split(": ", 1)[-1][:70]
started = time.process_time()
result = once()
took = time.process_time() - started
tracemalloc.start()  # a second run, traced: the peak of what the load allocated
once()
peak = tracemalloc.get_traced_memory()[1]
print(json.dumps({{"result": result, "cpu": took, "peak_kib": peak / 1024}}))
"""


def nlu_examples(n: int) -> str:
    lines = "".join(f"    - example number {i} of what a callee says\n" for i in range(n))
    return f"nlu:\n- intent: big\n  examples: |\n{lines}"


def workbook(patch) -> bytes:  # type: ignore[no-untyped-def]
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["phone", "name"])
    book.active.append(["13800138000", "Li"])
    buffer = io.BytesIO()
    book.save(buffer)
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            target.writestr(item, patch(data) if item.filename == "xl/worksheets/sheet1.xml" else data)
    return out.getvalue()


def cases() -> list[tuple[str, str, str, bytes]]:
    """(loader, case, file name, content)."""
    far = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'
    many_rows = "phone,name\n" + "".join(f"1380013{i:04d},lead {i}\n" for i in range(10000)) * 10
    return [
        (
            "flow",
            "405-byte nested aliases",
            "flow.yml",
            (LAUGHS + HEAD + "nodes: {a: {say: *a8}}\n").encode(),
        ),
        ("flow", "nesting 100,000 deep", "flow.yml", (HEAD + "nodes: " + "[" * 100_000 + "\n").encode()),
        ("flow", "5 MiB (over the 4 MiB bound)", "flow.yml", (HEAD + "# " + "x" * 5_000_000 + "\n").encode()),
        ("nlu", "4 MiB, 85,000 examples (accepted)", "nlu.yml", nlu_examples(85_000).encode()),
        (
            "nlu",
            "entity JSON 1,000,000 deep",
            "nlu.yml",
            ('nlu:\n- intent: i\n  examples: |\n    - [x]{"entity": ' + "[" * 1_000_000 + "}\n").encode(),
        ),
        ("nlu", "regex a{4294967296}", "nlu.yml", b"nlu:\n- regex: r\n  examples: |\n    - a{4294967296}\n"),
        ("campaign", "retry of 1e9d and .inf", "c.yml", b"id: c\nretry: {busy: 1e9d, no_answer: .inf}\n"),
        ("settings", "TOML arrays 100,000 deep", "s.toml", ("x = " + "[" * 100_000 + "\n").encode()),
        (
            "leads",
            "XLSX declaring A1:XFD1048576",
            "l.xlsx",
            workbook(lambda d: re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', d)),
        ),
        (
            "leads",
            "XLSX with one cell at XFD1048576",
            "l.xlsx",
            workbook(lambda d: d.replace(b"</sheetData>", far)),
        ),
        ("leads", "CSV of 100,000 rows (accepted)", "l.csv", many_rows.encode()),
    ]


def main() -> None:
    print(f"{'loader':9} {'case':36} {'size':>10} {'CPU s':>7} {'peak MiB':>9}  result")
    with tempfile.TemporaryDirectory() as tmp:
        for loader, case, name, content in cases():
            path = Path(tmp) / name
            path.write_bytes(content)
            child = CHILD.format(imports=LOADERS[loader])
            out = subprocess.run(
                [sys.executable, "-c", child, str(path)], capture_output=True, text=True, cwd=ROOT
            )
            if out.returncode != 0:
                print(f"{loader:9} {case:36} CRASHED: {out.stderr.strip().splitlines()[-1]}")
                continue
            r = json.loads(out.stdout)
            size = f"{len(content) / 1024:.1f} KB"
            print(
                f"{loader:9} {case:36} {size:>10} {r['cpu']:7.2f} {r['peak_kib'] / 1024:9.1f}  {r['result']}"
            )


if __name__ == "__main__":
    main()
