"""bot.core.parsing.amounts (and is_skip): Rupiah amounts and counts, good and bad, and their
properties."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.core.formatting import format_rupiah
from bot.core.parsing import (
    MAX_AMOUNT,
    is_skip,
    parse_amount,
    parse_count,
    parse_leading_count,
)
from tests.bot.strategies import PROPS, any_text, id_grouped, spelt


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,5 jt", 1_500_000),
        ("1.5jt", 1_500_000),
        ("1,5jt", 1_500_000),
        ("Rp 250.000", 250_000),
        ("Rp250.000,00", 250_000),
        ("Rp. 250.000", 250_000),
        ("rp 250.000", 250_000),
        ("IDR 5.000", 5_000),
        ("5.000 rupiah", 5_000),
        ("5.000 Rp", 5_000),
        ("250rb", 250_000),
        ("250 rb", 250_000),
        ("250 ribu", 250_000),
        ("250k", 250_000),
        ("20 jt", 20_000_000),
        ("20jt", 20_000_000),
        ("20 JUTA", 20_000_000),
        ("20.5 juta", 20_500_000),
        ("20,5 juta", 20_500_000),
        ("1.500.000", 1_500_000),
        ("1500000", 1_500_000),
        ("1.500", 1_500),
        ("2 M", 2_000_000_000),
        ("2 miliar", 2_000_000_000),
        ("2 milyar", 2_000_000_000),
        ("0", 0),
        ("Rp 0", 0),
        ("Rp 1.250.000,-", 1_250_000),
        ("1 juta 500 ribu", 1_500_000),
        ("1jt 500rb", 1_500_000),
        ("250,000", 250_000),  # English grouping: Rupiah has no thousandths
        ("1,500,000", 1_500_000),
        ("100 M", MAX_AMOUNT),
        ("Rp 250.000.", 250_000),
        # Number words, as a mentor may type them.
        ("lima ribu", 5_000),
        ("seratus ribu", 100_000),
        ("sejuta", 1_000_000),
        ("sepuluh juta", 10_000_000),
        ("dua ratus lima puluh ribu", 250_000),
        ("Rp sejuta lima ratus ribu", 1_500_000),
        ("1 juta lima ratus ribu", 1_500_000),
    ],
)
def test_parse_amount_good(text: str, expected: int) -> None:
    assert parse_amount(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "-",
        "abc",
        "-5000",
        "Rp -5.000",
        "1,5",  # not a whole Rupiah
        "1.5",  # neither Indonesian grouping nor a multiplier
        "12.34.567",
        "101 M",
        "1 triliun",
        "1e5",
        "1jt 500",
        "500rb 1jt",
        "2 mil",
        "Rp",
        "lima ribu rupiah juta",
        "se juta",
        "dua puluh",  # no unit: shorthand for 20 juta far more often than Rp 20
        "lima",
        "1 500 000",
        "9" * 100,
    ],
)
def test_parse_amount_bad(text: str) -> None:
    assert parse_amount(text) is None


@settings(max_examples=300)
@given(st.integers(min_value=0, max_value=MAX_AMOUNT))
def test_rupiah_round_trip(amount: int) -> None:
    assert parse_amount(format_rupiah(amount)) == amount
    assert parse_amount(format_rupiah(amount, "en")) == amount


@pytest.mark.parametrize("amount", [0, 1, 999, 1000, 1_500_000, MAX_AMOUNT])
def test_rupiah_round_trip_edges(amount: int) -> None:
    assert parse_amount(format_rupiah(amount)) == amount


@settings(max_examples=200)
@given(st.text(max_size=30))
def test_parse_amount_never_raises_on_short_text(text: str) -> None:
    result = parse_amount(text)
    assert result is None or 0 <= result <= MAX_AMOUNT


@settings(max_examples=100)
@given(st.from_regex(r"(Rp ?)?[0-9][0-9.,]{0,14} ?(rb|jt|juta|m|ribu|k)?", fullmatch=True))
def test_parse_amount_never_raises_on_number_like_text(text: str) -> None:
    result = parse_amount(text)
    assert result is None or 0 <= result <= MAX_AMOUNT


@pytest.mark.parametrize(
    "text",
    [
        "-",
        " - ",
        "\u2013",
        "lewati",
        "Lewati",
        "skip",
        "tidak ada",
        "Tidak ada.",
        "tidak",
        "kosong",
        "tdk ada",
        "/lewati",
    ],
)
def test_is_skip(text: str) -> None:
    assert is_skip(text)


@pytest.mark.parametrize("text", ["0", "", "250rb", "ada", "ya", "Siti"])
def test_is_not_skip(text: str) -> None:
    assert not is_skip(text)


# --------------------------------------------------------------------------------------
# Counts
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7", 7),
        (" 7 ", 7),
        ("07", 7),
        ("7 orang", 7),
        ("7orang", 7),
        ("7 KK", 7),
        ("tujuh", 7),
        ("Tujuh orang", 7),
        ("sepuluh", 10),
        ("sebelas", 11),
        ("dua belas", 12),
        ("dua puluh", 20),
        ("duapuluh", 20),
        ("seven", 7),
        ("satu", 1),
    ],
)
def test_parse_count_good(text: str, expected: int) -> None:
    assert parse_count(text, minimum=1, maximum=20) == expected


@pytest.mark.parametrize(
    "text", ["0", "21", "dua puluh satu", "-3", "7.5", "x", "", "tujuhh", "7 ekor"]
)
def test_parse_count_bad(text: str) -> None:
    assert parse_count(text, minimum=1, maximum=20) is None


@settings(max_examples=150)
@given(st.text(max_size=30))
def test_parse_count_never_raises_on_short_text(text: str) -> None:
    result = parse_count(text, minimum=5, maximum=10)
    assert result is None or 5 <= result <= 10


# --------------------------------------------------------------------------------------
# Found by the property tests and the review that came with them
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("-250rb", -250_000), ("rugi 250rb", -250_000), ("Rugi Rp 1,5 jt", -1_500_000),
    ("-Rp 250.000", -250_000), ("Rp -250.000", -250_000), ("minus 5.000", -5_000),
    ("\u2212250rb", -250_000), ("250rb", 250_000), ("-0", 0),
])
def test_a_loss_is_a_negative_amount_when_allowed(text: str, expected: int) -> None:
    assert parse_amount(text, allow_loss=True) == expected
    if expected < 0:
        assert parse_amount(text) is None


@pytest.mark.parametrize("text", ["- -250rb", "rugi", "rugi -250rb", "-", "rugi banyak"])
def test_not_a_loss(text: str) -> None:
    assert parse_amount(text, allow_loss=True) is None


@pytest.mark.parametrize(("text", "expected"), [
    ("seratus", 100), ("seribu", 1000), ("dua ratus lima puluh", 250),
    ("twenty-one", 21), ("one hundred and five", 105), ("1.000", 1000), ("Lima KK", 5),
])
def test_counts_in_words_beyond_twenty(text: str, expected: int) -> None:
    assert parse_count(text, minimum=0, maximum=1000) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("10 ekor kambing", (10, "ekor kambing")), ("sepuluh ekor", (10, "ekor")),
    ("dua ratus lima puluh lima batang", (255, "batang")), ("Tiga Karung", (3, "Karung")),
    ("25", (25, "")),
])
def test_parse_leading_count(text: str, expected: tuple) -> None:
    assert parse_leading_count(text, minimum=1, maximum=100_000) == expected


@pytest.mark.parametrize("text", ["1,5 ekor", "12.34", "10/ekor", "-3 ekor", "ekor", ""])
def test_parse_leading_count_refuses(text: str) -> None:
    assert parse_leading_count(text, minimum=1, maximum=100_000) is None


# --------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------


amounts = st.integers(0, MAX_AMOUNT)


@PROPS
@given(any_text)
def test_parse_amount_never_raises(text: str) -> None:
    for allow_loss in (False, True):
        result = parse_amount(text, allow_loss=allow_loss)
        assert result is None or type(result) is int
        assert result is None or (-MAX_AMOUNT if allow_loss else 0) <= result <= MAX_AMOUNT
    assert isinstance(is_skip(text), bool)


@PROPS
@given(amounts, st.sampled_from(["id", "en"]))
@example(MAX_AMOUNT, "id")
@example(0, "en")
def test_formatted_rupiah_parses_back(amount: int, lang: str) -> None:
    assert parse_amount(format_rupiah(amount, lang)) == amount
    assert parse_amount(format_rupiah(amount, lang), allow_loss=True) == amount


# Typed amounts are mostly round: thousands, hundred-thousands, millions.
round_amounts = st.one_of(
    amounts,
    st.integers(0, MAX_AMOUNT // 1000).map(lambda k: k * 1000),
    st.integers(1, MAX_AMOUNT // 100_000).map(lambda k: k * 100_000),
    st.integers(1, MAX_AMOUNT // 1_000_000).map(lambda k: k * 1_000_000),
)


@PROPS
@given(round_amounts, st.data())
def test_typed_rupiah_forms_parse_back(amount: int, data: st.DataObject) -> None:
    forms = [str(amount), id_grouped(amount), f"Rp {id_grouped(amount)}",
             f"Rp{id_grouped(amount)},00", f"Rp {id_grouped(amount)},-", f"{amount:,}",
             f"IDR {id_grouped(amount)}", f"{id_grouped(amount)} rupiah"]
    if amount % 1000 == 0:
        forms += [f"{amount // 1000}rb", f"{amount // 1000} ribu", f"{amount // 1000}k"]
    if amount % 100_000 == 0 and amount:
        millions = f"{amount / 1_000_000:.1f}".removesuffix(".0")
        forms += [f"{millions.replace('.', ',')} jt", f"{millions}jt", f"{millions} juta"]
    if amount % 1_000_000 == 0 and amount > 1_000_000_000 and amount % 1_000_000_000:
        forms.append(f"{amount // 1_000_000_000} M {amount % 1_000_000_000 // 1_000_000} jt")
    text = data.draw(st.sampled_from(forms))
    assert parse_amount(text) == amount, text


@PROPS
@given(st.integers(1, MAX_AMOUNT), st.data())
def test_a_loss_reads_as_a_negative_profit_only_when_allowed(amount: int,
                                                             data: st.DataObject) -> None:
    formatted = format_rupiah(amount)
    text = data.draw(st.sampled_from([
        format_rupiah(-amount), f"-{formatted}", f"- {formatted}", f"Rp -{id_grouped(amount)}",
        f"rugi {formatted}", f"Rugi {id_grouped(amount)}", f"minus {id_grouped(amount)}",
        f"-{id_grouped(amount)}", f"\u2212{id_grouped(amount)}",
    ]))
    assert parse_amount(text, allow_loss=True) == -amount, text
    assert parse_amount(text) is None, text


@PROPS
@given(any_text, st.integers(0, 5), st.integers(0, 1000))
def test_parse_count_never_raises(text: str, minimum: int, span: int) -> None:
    result = parse_count(text, minimum=minimum, maximum=minimum + span)
    assert result is None or minimum <= result <= minimum + span
    leading = parse_leading_count(text, minimum=1, maximum=100_000)
    assert leading is None or (1 <= leading[0] <= 100_000 and isinstance(leading[1], str))


@PROPS
@given(st.integers(0, 1000), st.data())
def test_counts_in_digits_and_words_parse_back(n: int, data: st.DataObject) -> None:
    # As num2words spells it, and as phones and hurry write it: "duapuluh", "twenty one",
    # "one hundred five".
    indonesian, english = spelt(n, "id"), spelt(n, "en")
    word = data.draw(st.sampled_from([indonesian, indonesian.replace(" ", ""), english,
                                      english.replace("-", " "), english.replace(" and ", " ")]))
    text = data.draw(st.sampled_from([
        str(n), f" {n} ", f"{n} orang", f"{n}orang", f"{n} KK", word, word.upper(),
        word.capitalize(), f"{word} orang", f"{word} kk",
    ]))
    assert parse_count(text, minimum=0, maximum=1000) == n, text
