"""The page's texts (bot/web/static/i18n.js): English has every Indonesian text, with the same
placeholders, and every text app.js asks for by a literal key exists (in the page or among the
chat's words /api/me sends). And its weight."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from bot.core.texts import vocabulary_words

STATIC = Path(__file__).resolve().parents[2] / "bot" / "web" / "static"
ENTRY = re.compile(r'^\s*"?([\w.]+)"?:\s*"((?:[^"\\]|\\.)*)",?$', re.MULTILINE)


def texts() -> dict[str, dict[str, str]]:
    source = (STATIC / "i18n.js").read_text(encoding="utf-8")
    id_part, en_part = source.split("\n  en: {", 1)
    return {"id": dict(ENTRY.findall(id_part.split("\n  id: {", 1)[1])),
            "en": dict(ENTRY.findall(en_part))}


def test_both_languages_have_the_same_texts_and_placeholders() -> None:
    found = texts()
    assert len(found["id"]) > 120
    assert found["id"].keys() == found["en"].keys()
    for key, text in found["id"].items():
        assert set(re.findall(r"\{(\w+)\}", text)) == set(re.findall(r"\{(\w+)\}", found["en"][key])), key


def test_every_literal_key_the_script_asks_for_exists() -> None:
    script = (STATIC / "app.js").read_text(encoding="utf-8")
    asked = set(re.findall(r'\bt\("([\w.]+)"[,)]', script))
    assert asked, "app.js asks for no text by a literal key: the pattern is stale"
    # The page's own texts, and the chat's words /api/me sends (bot.core.texts).
    known = texts()["id"].keys() | vocabulary_words("id").keys()
    assert asked <= known, asked - known


def test_the_first_load_stays_under_its_budget() -> None:
    path = Path(__file__).resolve().parents[2] / "bench" / "dashboard_weight.py"
    spec = importlib.util.spec_from_file_location("dashboard_weight", path)
    weight = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(weight)
    files = dict(weight.first_load())
    assert {"index.html", "app.js", "vendor/leaflet/leaflet.js", "vendor/uplot/uPlot.iife.min.js"} <= files.keys()
    assert sum(len(body) for body in files.values()) <= weight.BUDGET
