"""The send page's live counter (``web/static/counter.js``) counts exactly as the server
does (``domain/text.py``): same alphabets, same encodings, same segments — run under Node."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from centauro.domain import text
from centauro.web import format as fmt

COUNTER = Path(text.__file__).parents[1] / "web" / "static" / "counter.js"

SAMPLES = [
    "",
    "Hola",
    "a" * 160,
    "a" * 161,
    "á" * 70,
    "á" * 71,
    "€" * 80,
    "€" * 81,
    "a" * 152 + "€" + "a" * 10,
    "😀" * 35,
    "😀" * 36,
    "a" * 66 + "😀" + "a" * 5,
    "Su código es 1234. ¡Gracias por su compra en Panadería Ñandú!",
    "Hola " * 30 + "😀",
    "x" * 1530,
    "línea\nsalto",
]


def _js_sets() -> tuple[set[str], set[str]]:
    source = COUNTER.read_text()
    basic = re.search(r"var GSM7_BASIC = (\".*?\");", source)
    ext = re.search(r"var GSM7_EXTENSION = (\".*?\");", source)
    assert basic
    assert ext
    return set(json.loads(basic.group(1))), set(json.loads(ext.group(1)))


def test_the_counter_knows_the_servers_gsm7_alphabet() -> None:
    basic, extension = _js_sets()
    assert basic == set(text._GSM7_BASIC)
    assert extension == set(text._GSM7_EXTENSION) - set(text._GSM7_BASIC)


def test_the_counter_counts_segments_like_the_server() -> None:
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("node is required under CI=true")
        pytest.skip("node not installed")
    script = (
        f"const c = require({json.dumps(str(COUNTER))});"
        "const texts = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "console.log(JSON.stringify(texts.map(t => c.measure(t))));"
    )
    out = subprocess.run(
        [node, "-e", script],
        input=json.dumps(SAMPLES),
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    for sample, got in zip(SAMPLES, json.loads(out.stdout), strict=True):
        info = text.analyze(sample)
        assert got["gsm"] == (info.encoding is text.Encoding.GSM7), sample
        assert got["units"] == info.units, sample
        assert got["segments"] == info.segments, sample


def test_numbers_use_venezuelan_and_colombian_separators() -> None:
    assert fmt.number(1234.56, 2) == "1.234,56"
    assert fmt.number(1234567) == "1.234.567"
    assert fmt.number(0) == "0"
    assert fmt.percent(1, 3) == "33,3 %"
    assert fmt.percent(0, 0) == "—"


def test_the_chart_axis_labels_are_whole_numbers_that_match_the_bars() -> None:
    from datetime import date

    from centauro.service.counts import Counts
    from centauro.web.chart import _ceiling, days_chart

    assert [_ceiling(n) for n in (1, 2, 3, 5, 11, 399, 401)] == [2, 2, 4, 10, 20, 400, 1000]
    svg = str(days_chart([(date(2030, 1, d), Counts(accepted=3, delivered=3)) for d in (1, 2)]))
    labels = [int(t) for t in re.findall(r'end" fill="#486581">(\d+)<', svg)]
    assert labels == [0, 2, 4]
    assert svg.count("<rect") == 2
