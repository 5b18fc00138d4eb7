"""Every text exists in both languages with the same placeholders, and formats."""

from __future__ import annotations

import string

import pytest

from bot.core.texts import EN, ID, t


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_both_languages_have_the_same_keys():
    assert sorted(set(ID) - set(EN)) == [], "texts missing in English"
    assert sorted(set(EN) - set(ID)) == [], "texts only in English"


@pytest.mark.parametrize("key", sorted(ID))
def test_every_text_formats_with_its_placeholders(key):
    fields = _fields(ID[key])
    assert fields == _fields(EN.get(key, ID[key])), f"{key}: placeholders differ"
    values = {name: f"<{name}>" for name in fields}
    for lang in ("id", "en"):
        text = t(lang, key, **values)
        assert text.strip()
        for value in values.values():
            assert value in text
