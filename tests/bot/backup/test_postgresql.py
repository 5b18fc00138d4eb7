"""For PostgreSQL, `pendamping backup` and `restore` print pg_dump and pg_restore commands,
and those commands work."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
import subprocess

import pytest
from sqlalchemy import text

from bot.backup import head_revision
from bot.cli import main
from models import updates as update_queries
from models.db import (
    create_engine,
    create_sessionmaker,
    upgrade_sync,
    with_search_path,
)
from tests.conftest import postgresql_url
from tests.factories import (
    make_mentor,
)

POSTGRES = "postgresql+asyncpg://kube:s3cret@db.internal:5433/pendamping?search_path=kube_prod"


def test_postgresql_gets_the_pg_dump_and_pg_restore_commands_and_nothing_is_done(
        tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PENDAMPING_DATABASE_URL", POSTGRES)
    dump_line = ("  pg_dump --host=db.internal --port=5433 --username=kube --dbname=pendamping "
                 "--schema=kube_prod --format=custom --file=kube.dump")
    restore_line = (
        "  { echo 'BEGIN; SET LOCAL client_min_messages = warning; DROP SCHEMA IF EXISTS "
        "\"kube_prod\" CASCADE;'; pg_restore --file=- kube.dump && echo 'COMMIT;'; } | psql "
        "--host=db.internal --port=5433 --username=kube --dbname=pendamping "
        "--set=ON_ERROR_STOP=1 --quiet --output=/dev/null")

    assert main(["backup", "kube.dump"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("The database is PostgreSQL: back it up and restore it with "
                          "PostgreSQL's own tools")
    assert "Nothing was done." in err
    assert "Database pendamping on db.internal:5433, schema kube_prod." in err
    lines = err.splitlines()
    assert lines.index(dump_line) < lines.index(restore_line)
    assert "s3cret" not in err and "PGPASSWORD or ~/.pgpass" in err

    assert main(["restore", "kube.dump"]) == 2
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert lines.index("Restore (stop the bot first; this replaces everything in the "
                       "schema):") + 1 == lines.index(restore_line) < lines.index(dump_line)
    assert "  pendamping db upgrade    # when the backup is from an older version" in lines
    assert os.listdir(tmp_path) == []

    # Without ?search_path the tables live in the public schema; no password, no hint.
    monkeypatch.setenv("PENDAMPING_DATABASE_URL", "postgresql+asyncpg://postgres@localhost/kube")
    assert main(["backup", "/srv/backups/kube 1.dump"]) == 2
    err = capsys.readouterr().err
    assert ("  pg_dump --host=localhost --username=postgres --dbname=kube --schema=public "
            "--format=custom --file='/srv/backups/kube 1.dump'") in err.splitlines()
    assert "PGPASSWORD" not in err


@pytest.mark.skipif(postgresql_url() is None or not all(
    shutil.which(tool) for tool in ("pg_dump", "pg_restore", "psql")),
    reason="needs PENDAMPING_TEST_DATABASE_URL and pg_dump, pg_restore, psql")
def test_the_printed_postgresql_commands_work(tmp_path, monkeypatch, capsys):
    """The commands shown to the operator, run as shown, against the test server."""
    base = postgresql_url()
    schema = f"bk_{os.getpid()}_{secrets.token_hex(3)}"
    url = with_search_path(base, schema)

    async def sql(statement: str, target: str = base) -> list[tuple]:
        engine = create_engine(target)
        try:
            async with engine.begin() as connection:
                result = await connection.execute(text(statement))
                return [tuple(row) for row in result] if result.returns_rows else []
        finally:
            await engine.dispose()

    async def seed() -> None:
        engine = create_engine(url)
        async with create_sessionmaker(engine)() as session:
            await make_mentor(session, telegram_id=700001, name="Siti Rahma", area_code=None)
            await update_queries.receive(session=session, arrivals=[
                update_queries.Arrival(77, "m:700001:1:0", {"update_id": 77})])
            await update_queries.mark_handled(session=session, update_id=77)
        await engine.dispose()

    asyncio.run(sql(f'CREATE SCHEMA "{schema}"'))
    try:
        upgrade_sync(url)
        asyncio.run(seed())
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("PENDAMPING_DATABASE_URL", url)
        assert main(["backup", "kube.dump"]) == 2
        printed = capsys.readouterr().err.splitlines()
        backup_command = next(line.strip() for line in printed if line.startswith("  pg_dump"))
        restore_command = next(line.strip() for line in printed if line.startswith("  { echo"))
        subprocess.run(["bash", "-c", backup_command], check=True, cwd=tmp_path)

        asyncio.run(sql(f'UPDATE "{schema}".mentor SET name = \'Diganti\''))
        asyncio.run(sql(f'DELETE FROM "{schema}".received_update'))
        asyncio.run(sql(f'CREATE TABLE "{schema}".left_behind (x int)'))
        subprocess.run(["bash", "-c", restore_command], check=True, cwd=tmp_path)

        assert asyncio.run(sql("SELECT name FROM mentor", url)) == [("Siti Rahma",)]
        assert asyncio.run(sql("SELECT update_id FROM received_update", url)) == [(77,)]
        tables = asyncio.run(sql(
            f"SELECT tablename FROM pg_tables WHERE schemaname = '{schema}'"))
        assert ("left_behind",) not in tables
        assert asyncio.run(sql("SELECT version_num FROM alembic_version", url)) == \
            [(head_revision(),)]

        # A file that is no dump leaves the schema as it was (no COMMIT is sent).
        (tmp_path / "kube.dump").write_text("not a dump")
        subprocess.run(["bash", "-c", restore_command], check=False, cwd=tmp_path,
                       capture_output=True)
        assert asyncio.run(sql("SELECT name FROM mentor", url)) == [("Siti Rahma",)]
    finally:
        asyncio.run(sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def test_help_lists_backup_and_restore(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    listing = capsys.readouterr().out
    assert re.search(r"backup\s+write a consistent copy", listing)
    assert re.search(r"restore\s+put a backup back", listing)
