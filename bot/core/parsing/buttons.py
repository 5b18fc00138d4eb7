"""A button named by typing: its label (any case, accents or emoji), an unambiguous start of
it, or its number. Cheap phones hide a keyboard under the message being typed, and after a
restart of the demo the buttons are gone: the label is what people then type."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from bot.core.parsing.common import user_text

__all__ = ["fold_label", "typed_button"]

# Letters and digits kept, everything else (emoji, ✅/▫️, punctuation, "/") a space.
_NOT_WORD = re.compile(r"[^0-9a-z]+")
# "2", "#2", "2.", "no 2", "nomor 2": the second button.
_NUMBER = re.compile(r"(?:#|no\.?|nomor|nomer)?\s*(\d{1,2})\s*[.)]?")
# Shortest start of a label, or of a word inside one ("uep"), that names it: shorter ones are
# too often a word of their own ("ya", "ok") or a slip.
MIN_START = 3


def fold_label(text: str) -> str:
    """``text`` as compared: no accents, emoji or punctuation, lower case, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(_NOT_WORD.sub(" ", plain.casefold()).split())


@user_text(max_length=120)
def typed_button(text: str, labels: Sequence[str], *, numbers: bool) -> list[int] | None:
    """The indexes of the buttons (their ``labels``, in the order shown) that ``text`` names:
    one when it is clear, several when it could be any of them, empty (or None, for what is
    too long to be a label) when it names none.

    In turn: its number (``numbers``: only where a number is not itself an answer), the whole
    label, its whole first word ("ya" for "Ya, ganti"), the start of one label, the start of a
    word inside one ("usaha" for "Pemantauan usaha"); the first of these that matches anything
    decides."""
    if numbers:
        number = _NUMBER.fullmatch(text.strip().casefold())
        if number:
            index = int(number.group(1)) - 1
            return [index] if 0 <= index < len(labels) else []
    typed = fold_label(text)
    if not typed:
        return []
    folded = [fold_label(label) for label in labels]
    whole = [no for no, label in enumerate(folded) if label == typed]
    if whole:
        return whole
    # A label's whole first word, short as it may be: "ya" for "Ya, ganti" (the answer people
    # type to a yes/no question), where a start as short would be a slip.
    first = [no for no, label in enumerate(folded) if label.split(" ", 1)[0] == typed]
    if first and len(typed) >= 2:
        return first
    if len(typed) < MIN_START:
        return []
    starts = [no for no, label in enumerate(folded) if label.startswith(typed)]
    if starts:
        return starts
    return [no for no, label in enumerate(folded) if f" {typed}" in f" {label}"]
