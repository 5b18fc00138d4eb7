"""The operator's commands: `pendamping reminders run` and `pendamping users promote`."""

from __future__ import annotations

import asyncio
import shutil
from datetime import date

from bot.cli import main
from models.db import create_engine, create_sessionmaker
from tests.conftest import TEST_DATA_KEY
from tests.factories import make_group, make_mentor


def _seed(url: str) -> None:
    async def seed() -> None:
        engine = create_engine(url)
        async with create_sessionmaker(engine)() as session:
            mentor = await make_mentor(session, telegram_id=700001, name="Siti Rahma")
            await make_group(session, mentor, name="KUBE Mawar",
                             next_visit_due=date(2026, 12, 1))
        await engine.dispose()

    asyncio.run(seed())


def test_reminders_run_dry_then_real_then_nothing_twice(template_db, tmp_path, capsys):
    folder = tmp_path / "demo"
    folder.mkdir()
    shutil.copyfile(template_db, folder / "demo.db")
    # The demo's key file holds the key the seed encrypts with.
    (folder / "data.key").write_text(TEST_DATA_KEY)
    _seed(f"sqlite+aiosqlite:///{folder / 'demo.db'}")
    assert main(["users", "promote", "900777", "--role", "coordinator", "--area", "32.02",
                 "--name", "Koor Sukabumi", "--demo", "--folder", str(folder)]) == 0
    assert "Koor Sukabumi (Telegram 900777) is now coordinator for Kab. Sukabumi" in \
        capsys.readouterr().out

    args = ["reminders", "run", "--demo", "--folder", str(folder), "--at", "2026-12-15T07:05"]
    assert main([*args, "--dry-run"]) == 0
    dry = capsys.readouterr().out
    assert "DRY RUN, nothing sent" in dry
    assert "--> Siti Rahma (Telegram 700001):" in dry
    assert "KUBE Mawar: kunjungan terlambat 14 hari" in dry
    assert "--> Koor Sukabumi (Telegram 900777):" in dry
    assert "KUBE Mawar (pendamping Siti Rahma): belum dikunjungi, terlambat 14 hari" in dry

    assert main(args) == 0
    real = capsys.readouterr().out
    assert "2 digests: 2 sent" in real

    assert main(args) == 0
    again = capsys.readouterr().out
    assert "0 digests: 0 sent" in again


def test_promote_refuses_a_coordinator_without_an_area(template_db, tmp_path, capsys):
    folder = tmp_path / "demo"
    folder.mkdir()
    shutil.copyfile(template_db, folder / "demo.db")
    assert main(["users", "promote", "1", "--role", "coordinator", "--demo",
                 "--folder", str(folder)]) == 2
    assert "needs --area" in capsys.readouterr().err


# --- the data key --------------------------------------------------------------------------------

def test_key_new_prints_a_fresh_usable_key(capsys):
    from models import crypto

    assert main(["key", "new"]) == 0
    first = capsys.readouterr()
    assert main(["key", "new"]) == 0
    second = capsys.readouterr().out.strip()
    key = first.out.strip()
    assert key != second and len(key) == 44
    crypto.Keyring(key)  # a valid key
    assert "keep a copy somewhere safe" in first.err


def _run_env(monkeypatch, tmp_path, template_db, *, key: str | None):
    """`pendamping run` set up against a copy of the template (no .env around)."""
    db = tmp_path / "bot.db"
    shutil.copyfile(template_db, db)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PENDAMPING_TELEGRAM_TOKEN", "123456:TEST-TOKEN-FOR-THE-CLI-TEST")
    monkeypatch.setenv("PENDAMPING_DATABASE_URL", f"sqlite+aiosqlite:///{db}")
    if key is None:
        monkeypatch.delenv("PENDAMPING_DATA_KEY", raising=False)
    else:
        monkeypatch.setenv("PENDAMPING_DATA_KEY", key)
    # `run` sets up logging for the process: conftest's root_logging puts the test's back.
    return f"sqlite+aiosqlite:///{db}"


def test_run_without_a_key_says_how_to_make_one(monkeypatch, tmp_path, template_db, capsys):
    _run_env(monkeypatch, tmp_path, template_db, key=None)
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert "PENDAMPING_DATA_KEY is not set" in err and "pendamping key new" in err
    assert "Traceback" not in err


def test_run_with_another_key_refuses_to_start(monkeypatch, tmp_path, template_db, capsys):
    from models import crypto

    url = _run_env(monkeypatch, tmp_path, template_db, key=crypto.new_key())
    _seed(url)  # encrypted with the test key
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert "does not open the personal data already stored" in err
    assert "Traceback" not in err


def test_demo_makes_its_key_once_and_says_where(tmp_path, capsys):
    import stat

    from bot.cli import _demo_settings

    folder = tmp_path / "demo"
    first = _demo_settings(str(folder))
    printed = capsys.readouterr().out
    path = folder / "data.key"
    assert printed.strip() == f"(Kunci data demo dibuat / demo data key created: {path})"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = _demo_settings(str(folder))
    assert capsys.readouterr().out == ""
    assert first.data_key.get_secret_value() == again.data_key.get_secret_value() \
        == path.read_text().strip()


def test_export_for_a_period_and_a_bad_period(template_db, tmp_path, capsys):
    import os

    from openpyxl import load_workbook

    folder = tmp_path / "demo"
    folder.mkdir()
    shutil.copyfile(template_db, folder / "demo.db")
    (folder / "data.key").write_text(TEST_DATA_KEY)
    _seed(f"sqlite+aiosqlite:///{folder / 'demo.db'}")
    out = tmp_path / "sukabumi-q4.xlsx"
    args = ["export", "--area", "32.02", "--out", str(out), "--demo", "--folder", str(folder)]
    assert main([*args, "--period", "2026-Q4"]) == 0
    printed = capsys.readouterr().out
    assert f"Wrote {out} (Q4 2026 (Oct–Dec), NIK and phone masked)" in printed
    assert "Ringkasan 1" in printed and "Kelompok 1" in printed
    assert os.stat(out).st_mode & 0o777 == 0o600
    book = load_workbook(out)
    assert book.sheetnames[:2] == ["Ringkasan", "Kelompok"]
    assert book["Ringkasan"]["A1"].value == ("Rekap KUBE Kab. Sukabumi, Jawa Barat, "
                                             "Triwulan IV 2026 (Okt–Des)")
    assert main([*args, "--period", "2026-11"]) == 0
    assert "November 2026" in capsys.readouterr().out
    for bad in ("2026-Q5", "Q1", "2026-13", "1990"):
        assert main([*args, "--period", bad]) == 2
        err = capsys.readouterr().err
        assert f"Unknown period {bad!r}" in err and "(2027-Q1)" in err, bad
