"""User-facing texts, one dict per language. Indonesian is the reference; English mirrors it.

Keys are "feature.name". ``t()`` never raises on a missing English text: it falls back to
Indonesian, so a user always gets an answer (a test checks both dicts have the same keys).
"""

from __future__ import annotations

from bot.core.texts.en import TEXTS as EN
from bot.core.texts.id import TEXTS as ID

LANGUAGES = {"id": ID, "en": EN}
DEFAULT_LANGUAGE = "id"


def t(lang: str | None, key: str, /, **kwargs: object) -> str:
    """The text ``key`` in ``lang``, formatted with ``kwargs``."""
    table = LANGUAGES.get(lang or DEFAULT_LANGUAGE, ID)
    template = table.get(key) or ID[key]
    return template.format(**kwargs) if kwargs else template


def label(lang: str | None, vocabulary: str, value: str) -> str:
    """The user-facing word for an enum value, e.g. label("id", "role", "ketua")."""
    return t(lang, f"{vocabulary}.{value}")


# The vocabularies the dashboard's page shows (bot.web, /api/me): the chat's own words, so the
# two never drift apart.
SHARED_VOCABULARIES = ("affiliation", "business", "tie", "stage", "welfare", "role", "activity")


def vocabulary_words(lang: str | None) -> dict[str, str]:
    """Every "vocabulary.value" text of SHARED_VOCABULARIES in ``lang`` (stage signs left out)."""
    table = LANGUAGES.get(lang or DEFAULT_LANGUAGE, ID)
    return {key: table.get(key) or text for key, text in ID.items()
            if key.split(".", 1)[0] in SHARED_VOCABULARIES and key.count(".") == 1}
