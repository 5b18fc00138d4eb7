"""Answers as people say them (issue 15), through the real Application: dates said in words
("minggu depan", "3 desmber") at real questions, and amounts that look too small asked back
("Maksudnya Rp 50.000?") before anything is stored."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from handlers.amount_check import decimal_meant, likely_meant
from models import visits as visit_queries
from tests.factories import make_group, make_mentor, shown, stored_draft
from tests.handlers import test_grants as grant_walks
from tests.handlers.visit_walks import MENTOR, TODAY, assert_retried, to_amounts, visits


async def test_dates_said_in_words_at_the_visit_questions(bot, session):
    mentor = await make_mentor(session, telegram_id=MENTOR)
    await make_group(session, mentor, formed_on=date(2025, 1, 10))
    chat = bot.chat(MENTOR)
    await chat.send("/kunjungan")
    await chat.press("KUBE Mawar")

    # A day that has come: "minggu depan" is read (a week ahead), so refused as future.
    assert_retried(await chat.send("minggu depan"),
                   "tidak boleh setelah hari ini (25 November 2026)", "Kapan kunjungannya?")
    replies = await chat.send("3 desmber")  # misspelt; the last 3 December, not the next one
    assert "3 Desember 2025" in shown(replies)
    await chat.send("6")
    await chat.press("▫️ Pemantauan usaha")
    await chat.press("Selesai")
    await chat.press("Lewati")  # figures
    await chat.send("-")  # problems
    await chat.send("-")  # follow-up
    await chat.send("Lewati")  # location
    await chat.press("Selesai")  # photos
    assert "minggu depan" in chat.last_text()  # the next visit's example names the new forms
    await chat.send("minggu depan")  # a day ahead: a week from today
    assert "Kunjungan berikutnya: 2 Desember 2026" in chat.last_text()
    await chat.press("✅ Simpan")
    [visit] = await visits(session)
    assert visit.visited_on == date(2025, 12, 3)
    assert visit.next_visit_on == TODAY + timedelta(days=7)


async def test_small_amounts_at_the_visit_figures_are_asked_back(bot, session):
    mentor = await make_mentor(session, telegram_id=MENTOR)
    group = await make_group(session, mentor, formed_on=date(2026, 1, 10))
    await visit_queries.create_visit(session=session, group=group, mentor=mentor, fields={
        "visited_on": date(2026, 10, 1), "attendance": 6, "activities": ["pemantauan"],
        "next_visit_on": date(2026, 10, 31), "solidarity_fee": 1_000_000})
    chat = bot.chat(MENTOR)
    await to_amounts(chat)

    await chat.send("1,5")  # omzet: a decimal, read in millions
    assert "Maksudnya Rp 1.500.000?" in chat.last_text()
    replies = await chat.send("50")  # typed instead; under the floor (Rp 1.000)
    assert "Maksudnya Rp 50.000?" in shown(replies)
    assert chat.buttons() == ["Ya, Rp 50.000", "Bukan, tetap Rp 50"]
    assert (await stored_draft(session, MENTOR, "visit")).get("turnover") is None  # not yet
    await chat.press("Ya, Rp 50.000")
    assert "keuntungan" in chat.last_text()

    await chat.send("Rp 50")  # profit: asked back, then typed again as it was
    assert "Maksudnya Rp 50.000?" in chat.last_text()
    await chat.send("50")
    assert "kas" in chat.last_text()

    await chat.send("50")  # cash: the other button
    await chat.press("Bukan, tetap Rp 50")
    assert "IKS" in chat.last_text()

    # IKS: Rp 3.000 would still be under 1/100 of the last IKS (Rp 1.000.000): a million times.
    await chat.send("3")
    assert "Maksudnya Rp 3.000.000?" in chat.last_text()
    await chat.press("💾 Simpan sekarang")  # on the IKS question: refused, the figure not lost
    assert chat.callback_answers()[-1].text.startswith(
        'Jawab dulu pertanyaan "Maksudnya Rp 3.000.000?"')
    await chat.send("ya")
    assert "Catat aset kelompok" in chat.last_text()

    await chat.press("Lewati")  # assets
    for note in ("-", "-", "Lewati"):
        await chat.send(note)
    await chat.press("Selesai")
    await chat.press("Pakai ")
    summary = chat.last_text()
    for part in ("Omzet: Rp 50.000", "Keuntungan: Rp 50", "Kas: Rp 50", "IKS: Rp 3.000.000"):
        assert part in summary, part
    await chat.press("✅ Simpan")
    visit = max(await visits(session), key=lambda visit: visit.id)
    assert (visit.turnover, visit.profit, visit.cash, visit.solidarity_fee) == (
        50_000, 50, 50, 3_000_000)


async def test_a_grant_of_fifty_or_one_and_a_half_is_asked_back_in_millions(bot, session):
    await grant_walks.mentor_with_group(session)
    chat = bot.chat(grant_walks.MENTOR)
    await grant_walks.to_amount(chat)
    await chat.send("1,5")  # a decimal: millions, and no "tetap" for it
    assert "Maksudnya Rp 1.500.000?" in chat.last_text()
    assert chat.buttons() == ["Ya, Rp 1.500.000"]
    await chat.send("50")  # another amount typed instead: read (and checked) anew
    assert "Maksudnya Rp 50.000.000?" in chat.last_text()
    await chat.press("Ya, Rp 50.000.000")
    assert "Kapan" in chat.last_text()
    assert (await grant_walks.draft(session))["amount"] == 50_000_000


@pytest.mark.parametrize(("text", "amount", "floor", "earlier", "meant"), [
    ("50", 50, 1_000, None, 50_000),  # "rb" left out
    ("Rp. 50,-", 50, 1_000, None, 50_000),
    ("-50", -50, 1_000, None, -50_000),  # a loss
    ("2", 2, 1_000, 3_000_000, 2_000_000),  # a thousand times is still far below last time
    ("50", 50, 100_000, None, 50_000_000),  # a grant
    ("5000", 5_000, 1_000, 5_000_000, 5_000_000),
    ("5000", 5_000, 1_000, None, None),  # looks right
    ("50rb", 50_000, 1_000, None, None),  # written with its scale
    ("50.000", 50_000, 1_000, 10_000_000, None),
    ("0", 0, 1_000, None, None),
])
def test_the_amount_likely_meant(text, amount, floor, earlier, meant):
    assert likely_meant(text, amount, floor=floor, earlier=earlier) == meant


@pytest.mark.parametrize(("text", "meant"), [
    ("1,5", 1_500_000), ("Rp 2.25", 2_250_000), ("0,5", 500_000),
    ("1.500", None), ("1,5 jt", None), ("-1,5", None), ("abc", None)])
def test_a_decimal_is_read_in_millions(text, meant):
    assert decimal_meant(text) == meant
