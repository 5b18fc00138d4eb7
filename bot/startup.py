"""What every way of starting the bot does to the database first: migrate, load the official
areas, and check the data key against what is stored, and (PostgreSQL, where `pendamping db
upgrade` migrates) that the schema is this version's (bot.cli, bot.serve)."""

from __future__ import annotations

from sqlalchemy import inspect, text

from bot.core.settings import Settings
from bot.problems import SetupProblem, check_sqlite_folder
from models import crypto
from models import updates as update_queries
from models.areas import load_areas
from models.db import alembic_config, create_engine, create_sessionmaker, sqlite_file, upgrade


async def last_update_id(settings: Settings) -> int:
    """The newest update id received before (0 when none): the demo goes on from there."""
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            return await update_queries.last_received(session=session)
    finally:
        await engine.dispose()


async def prepare_database(settings: Settings) -> int:
    """Applies migrations and loads the official areas when missing; returns areas added."""
    check_sqlite_folder(settings.database_url)
    if settings.data_key.get_secret_value():
        crypto.configure(settings.data_key)  # the migrations encrypt existing rows with it
    path = sqlite_file(settings.database_url)
    new_file = path is not None and not path.exists()
    await upgrade(settings.database_url)
    if new_file:
        # Households' names and groups are stored in the clear: for its owner's eyes only, as
        # backups are. A mode the operator sets later is left alone.
        path.chmod(0o600)
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            return await load_areas(session=session)
    finally:
        await engine.dispose()


async def check_data_key(settings: Settings) -> None:
    """Raises models.crypto.DataKeyError (main prints it) when the data key is missing, or is
    not the one the stored personal data was encrypted with."""
    crypto.configure(settings.data_key)
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            await crypto.verify_stored(session=session)
    finally:
        await engine.dispose()


async def check_schema(settings: Settings) -> None:
    """Raises bot.problems.SetupProblem (main prints it) unless the database is migrated to
    this version's revision: not at all or older (`pendamping db upgrade`), or by a newer
    version, which this one must not run on."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    def revisions(connection) -> set[str]:
        # Read directly, not through Alembic's MigrationContext, which logs at every start.
        if not inspect(connection).has_table("alembic_version"):
            return set()
        return set(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())

    engine = create_engine(settings.database_url)
    try:
        async with engine.connect() as connection:
            current = await connection.run_sync(revisions)
    finally:
        await engine.dispose()
    script = ScriptDirectory.from_config(alembic_config(settings.database_url))
    heads = set(script.get_heads())
    if current == heads:
        return
    ours = ", ".join(sorted(heads))
    if not current:
        raise SetupProblem("The database has no tables yet: run `pendamping db upgrade` first "
                           "(once, from one machine).")
    unknown = []
    for revision in sorted(current):
        try:
            script.get_revision(revision)
        except CommandError:
            unknown.append(revision)
    if unknown:
        raise SetupProblem(
            f"The database was migrated by a newer version of Pendamping KUBE (revision "
            f"{', '.join(unknown)}; this version knows up to {ours}): run the newer version.")
    raise SetupProblem(f"The database is at revision {', '.join(sorted(current))}, older than "
                       f"this version ({ours}): run `pendamping db upgrade` first.")


def warm_up() -> None:
    """Builds what the first answers would otherwise build on the event loop, where every
    other user waits: the place index, the date reader's languages (a fifth of a second), the
    number words, phone metadata, Babel's formats. Run in a thread before serving."""
    import gc
    from datetime import date

    from bot.core.formatting import format_date, format_rupiah
    from bot.core.parsing import (
        find_numbers,
        parse_amount,
        parse_count,
        parse_date_ahead,
        parse_member_lines,
        parse_phone,
        warm_up_dates,
    )
    from bot.core.places import default_index

    today = date.today()
    default_index().search_work_area("cibdak", levels=frozenset({2, 3}))
    warm_up_dates()
    for said in ("12/03/2026", "senin"):
        parse_date_ahead(said, after=today, horizon_days=365, today=today)
    parse_amount("1,5 jt")
    parse_amount("satu juta dua ratus ribu")
    parse_count("enam", minimum=0, maximum=10)
    parse_phone("0812 3456 7890")
    find_numbers("NIK 3202110101010001, HP 0812 3456 7890, Rp 1.500.000")
    parse_member_lines("Siti Aminah; miskin; ketua\nBudi Santoso; fakir miskin; anggota")
    format_rupiah(1_500_000)
    format_date(today)
    # All this lives as long as the process (the place index alone is a few hundred thousand
    # objects): kept out of the collector's full passes, each of which otherwise held the
    # event loop for 100-170 ms every few hundred updates.
    gc.freeze()
