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
