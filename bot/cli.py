"""The `pendamping` command: demo, run, db."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

from bot.core.settings import Settings
from bot.startup import check_data_key, last_update_id, prepare_database

log = logging.getLogger(__name__)

DEMO_ADMIN_ID = 900001
DEMO_MENTOR_ID = 700001


def _demo(args: argparse.Namespace) -> int:
    from bot.app import build_application
    from bot.demo import run_demo
    from models import crypto

    folder = Path(args.folder)
    folder.mkdir(parents=True, exist_ok=True)
    db_path = folder / "demo.db"
    if args.fresh and db_path.exists():
        db_path.unlink()
    settings = _demo_settings(args.folder)

    async def main() -> None:
        added = await prepare_database(settings)
        if added:
            print(f"(Memuat {added} wilayah resmi Kemendagri ke {db_path})")
        try:
            await check_data_key(settings)
        except crypto.WrongKey as exc:
            raise crypto.WrongKey(f" in {db_path}, with the key in {folder / 'data.key'}; "
                                  "`demo --fresh` starts over") from exc
        await run_demo(lambda base_url: build_application(settings, base_url=base_url),
                       admin_id=DEMO_ADMIN_ID, mentor_id=DEMO_MENTOR_ID,
                       first_update_id=await last_update_id(settings) + 1)

    asyncio.run(main())
    return 0


def _run(args: argparse.Namespace) -> int:
    from bot.logs import setup_logging
    from bot.serve import ServeError, run, webhook_secret

    settings = Settings()
    token = settings.telegram_token.get_secret_value()
    level = os.environ.get("PENDAMPING_LOG_LEVEL", "INFO").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        print(f"PENDAMPING_LOG_LEVEL is {level!r}: use DEBUG, INFO, WARNING or ERROR.",
              file=sys.stderr)
        return 2
    setup_logging(level,
                  secrets=[token, webhook_secret(settings)])
    if not token:
        print("PENDAMPING_TELEGRAM_TOKEN is not set (see README: Running against Telegram).",
              file=sys.stderr)
        return 2
    try:
        return run(settings, webhook=args.webhook)
    except ServeError as problem:
        print(problem, file=sys.stderr)
        return 3


def _demo_settings(folder: str, *, create_key: bool = True) -> Settings:
    """The demo's settings; ``create_key=False`` for commands that only copy the file (backup,
    restore): they need no key and must not leave one in a folder they merely looked at."""
    from bot.demo import DATA_KEY_FILE, demo_data_key

    key_file = Path(folder) / DATA_KEY_FILE
    if create_key:
        key = demo_data_key(Path(folder))
    else:
        key = key_file.read_text(encoding="ascii").strip() if key_file.exists() else ""
    return Settings(
        _env_file=None,
        data_key=key,
        database_url=f"sqlite+aiosqlite:///{Path(folder) / 'demo.db'}",
        admin_ids=[DEMO_ADMIN_ID],
        telegram_token="123456:DEMO-TOKEN-NOT-SECRET",
        language="id",
    )


def _instant(text: str | None):
    """--at: an ISO date-time; without an offset it is read as WIB (Asia/Jakarta)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from bot.core import clock

    if not text:
        return clock.now()
    if isinstance(text, datetime):
        return text
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO date-time: {text!r} (example: 2027-01-07T07:05)") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo("Asia/Jakarta"))
    return value


def _print_digests(report, out=None) -> None:
    out = out or sys.stdout
    for digest in report.digests:
        print(f"--> {digest.name} (Telegram {digest.telegram_id}):", file=out)
        for line in digest.text.splitlines():
            print(f"    {line}", file=out)
        if digest.markup:
            for row in digest.markup.inline_keyboard:
                print("    " + "  ".join(f"[{b.text}]" for b in row), file=out)


def _reminders(args: argparse.Namespace) -> int:
    from telegram import Bot
    from telegram.request import HTTPXRequest

    from bot.localapi import LocalBotApi
    from bot.logs import setup_logging
    from models.db import create_engine, create_sessionmaker
    from scheduler.sweep import SEND_CONCURRENCY, sweep

    settings = _demo_settings(args.folder) if args.demo else Settings()
    token = settings.telegram_token.get_secret_value()
    setup_logging("WARNING", secrets=[token])
    now = _instant(args.at)

    async def main() -> int:
        if settings.is_sqlite:
            await prepare_database(settings)
        engine = create_engine(settings.database_url)
        sessionmaker = create_sessionmaker(engine)
        server = None
        bot = None
        try:
            if not args.dry_run:
                # A connection per digest in flight: a request waiting for a free connection
                # would time out and count as failed.
                request = HTTPXRequest(connection_pool_size=SEND_CONCURRENCY)
                if args.demo:
                    # The demo has no Telegram: a local server receives what would be sent.
                    server = LocalBotApi()
                    await server.start()
                    bot = Bot(token, base_url=server.base_url, request=request)
                else:
                    if not token:
                        print("PENDAMPING_TELEGRAM_TOKEN is not set.", file=sys.stderr)
                        return 2
                    bot = Bot(token, base_url=settings.telegram_base_url, request=request)
                await bot.initialize()
            report = await sweep(sessionmaker=sessionmaker, bot=bot, settings=settings,
                                 now=now, dry_run=args.dry_run)
            mode = "DRY RUN, nothing sent" if args.dry_run else "sent"
            print(f"Reminder sweep as of {now.isoformat()} ({mode}): {report.summary()}")
            _print_digests(report)
            return 0
        finally:
            if bot is not None:
                await bot.shutdown()
            if server is not None:
                await server.stop()
            await engine.dispose()

    return asyncio.run(main())


def _users(args: argparse.Namespace) -> int:
    from bot.core.enums import Role
    from bot.core.places import default_index
    from models import mentors as mentor_queries
    from models.db import create_engine, create_sessionmaker

    settings = _demo_settings(args.folder) if args.demo else Settings()
    role = Role(args.role)
    place = default_index().get(args.area) if args.area else None
    if role == Role.COORDINATOR and (place is None or place.level > 3):
        print("A coordinator needs --area: a province, regency or district code "
              "(for example 32.02).", file=sys.stderr)
        return 2

    async def main() -> None:
        if settings.is_sqlite:
            await prepare_database(settings)
        engine = create_engine(settings.database_url)
        try:
            async with create_sessionmaker(engine)() as session:
                mentor = await mentor_queries.promote(
                    session=session, telegram_id=args.telegram_id, role=role,
                    area_code=args.area, name=args.name)
            where = f" for {place.label}" if place else ""
            print(f"{mentor.name} (Telegram {mentor.telegram_id}) is now {role.value}{where}.")
        finally:
            await engine.dispose()

    asyncio.run(main())
    return 0


def _export(args: argparse.Namespace) -> int:
    from bot.core import clock
    from bot.core.places import default_index
    from models import crypto, exchange
    from models.db import create_engine, create_sessionmaker

    settings = _demo_settings(args.folder) if args.demo else Settings()
    crypto.configure(settings.data_key)
    places = default_index()
    if args.area and args.area not in places:
        print(f"Unknown area code {args.area!r} (a Kemendagri code such as 32.02).",
              file=sys.stderr)
        return 2

    async def main() -> None:
        engine = create_engine(settings.database_url)
        try:
            async with create_sessionmaker(engine)() as session:
                content, counts = await exchange.export_workbook(
                    session=session, area_code=args.area, places=places,
                    masked=not args.unmasked, now=clock.now(),
                    min_size=settings.group_min_size, max_size=settings.group_max_size)
                # Names (and with --unmasked, NIKs and phones): for its owner's eyes only.
                descriptor = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(descriptor, "wb") as out:
                    out.write(content)
                os.chmod(args.out, 0o600)
                exchange.record_export(session=session, actor_telegram_id=None,
                                       area_code=args.area, masked=not args.unmasked,
                                       counts=counts, via="cli")
                await session.commit()
        finally:
            await engine.dispose()
        rows = ", ".join(f"{sheet} {n}" for sheet, n in counts.items())
        masking = "unmasked" if args.unmasked else "NIK and phone masked"
        print(f"Wrote {args.out} ({masking}): {rows}")

    asyncio.run(main())
    return 0


def _import(args: argparse.Namespace) -> int:
    from bot.core import clock
    from bot.core.enums import MentorStatus, Role
    from bot.core.places import default_index
    from handlers import exchange_words
    from models import crypto, exchange
    from models import mentors as mentor_queries
    from models.db import create_engine, create_sessionmaker

    settings = _demo_settings(args.folder) if args.demo else Settings()
    crypto.configure(settings.data_key)
    try:
        raw = exchange.read_workbook(Path(args.file).read_bytes())
    except OSError as exc:
        print(f"Cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    except exchange.ImportFileError as exc:
        print(exchange_words.file_error_text(exc, "en"), file=sys.stderr)
        return 2

    async def main() -> int:
        engine = create_engine(settings.database_url)
        try:
            async with create_sessionmaker(engine)() as session:
                actor = await mentor_queries.get_by_telegram_id(session=session,
                                                                telegram_id=args.actor)
                if (actor is None or actor.status != MentorStatus.ACTIVE
                        or actor.role not in (Role.COORDINATOR, Role.ADMIN)
                        or (actor.role == Role.COORDINATOR and not actor.area_code)):
                    print(f"Telegram {args.actor} is not an active coordinator (with an area) "
                          "or admin.", file=sys.stderr)
                    return 2
                report = await exchange.import_rows(
                    session=session, actor=actor, raw=raw, places=default_index(),
                    now=clock.now(), min_size=settings.group_min_size,
                    max_size=settings.group_max_size,
                    default_interval=settings.visit_interval_days,
                    rules=settings.reminder_rules, file_name=Path(args.file).name)
        finally:
            await engine.dispose()
        lang = actor.language or "id"
        print(exchange_words.report_text(report, lang, Path(args.file).name))
        for line in exchange_words.refusal_lines(report, lang):
            print(line)
        return 0

    return asyncio.run(main())


def _db(args: argparse.Namespace) -> int:
    from models.db import downgrade_sync

    settings = Settings()
    if args.action == "downgrade" and not args.revision:
        print("Say which revision to go back to, e.g. `pendamping db downgrade 0002` "
              "(`base` removes every table).", file=sys.stderr)
        return 2
    if args.action == "upgrade":
        added = asyncio.run(prepare_database(settings))
        print(f"database at head; {added} areas loaded")
    else:
        downgrade_sync(settings.database_url, args.revision)
        print(f"database downgraded to {args.revision}")
    return 0


def _backup(args: argparse.Namespace) -> int:
    from bot.backup import backup_command

    settings = _demo_settings(args.folder, create_key=False) if args.demo else Settings()
    return backup_command(settings.database_url, args.file, force=args.force)


def _restore(args: argparse.Namespace) -> int:
    from bot.backup import restore_command
    from bot.core import clock

    settings = _demo_settings(args.folder, create_key=False) if args.demo else Settings()
    return restore_command(settings.database_url, args.file, now=clock.now())


def _key(args: argparse.Namespace) -> int:
    from models import crypto

    print(crypto.new_key())
    print(f"(a new data key: set it as {crypto.KEY_VARIABLE} and keep a copy somewhere safe; "
          "a lost key cannot be recovered, and neither can the data it encrypted)",
          file=sys.stderr)
    return 0


def _demo_options(parser: argparse.ArgumentParser) -> None:
    """--demo and --folder: run a command on the demo's database instead of the configured one."""
    parser.add_argument("--demo", action="store_true", help="use the demo's database")
    parser.add_argument("--folder", default=".demo", help="the demo's folder (with --demo)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pendamping", description="Pendamping KUBE bot")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="try the bot in this terminal (no token, no network)")
    demo.add_argument("--folder", default=".demo", help="where the demo database lives")
    demo.add_argument("--fresh", action="store_true", help="start from an empty database")
    demo.set_defaults(func=_demo)

    run = commands.add_parser(
        "run", help="run the real bot (long polling, or --webhook)",
        description="Serves Telegram. With PostgreSQL, start it on two machines: one leads, "
                    "the other waits as a hot standby and takes over within seconds.")
    run.add_argument("--webhook", action="store_true",
                     help="receive updates on PTB's webhook server (PENDAMPING_WEBHOOK_URL, "
                          "_PORT, _SECRET) instead of long polling")
    run.set_defaults(func=_run)

    reminders = commands.add_parser("reminders", help="reminder sweeps")
    reminders.add_argument("action", choices=["run"])
    reminders.add_argument("--at", type=_instant,
                           help="as of this ISO date-time, e.g. 2027-01-07T07:05 (no offset: WIB)")
    reminders.add_argument("--dry-run", action="store_true",
                           help="print what would be sent and to whom; send nothing")
    reminders.add_argument("--demo", action="store_true",
                           help="use the demo's database (and a local stand-in for Telegram)")
    reminders.add_argument("--folder", default=".demo", help="the demo's folder (with --demo)")
    reminders.set_defaults(func=_reminders)

    users = commands.add_parser("users", help="user roles")
    users.add_argument("action", choices=["promote"])
    users.add_argument("telegram_id", type=int)
    users.add_argument("--role", default="coordinator", choices=["mentor", "coordinator", "admin"])
    users.add_argument("--area", help="Kemendagri code of the area (coordinators)")
    users.add_argument("--name", help="name, for a user who has not written to the bot yet")
    _demo_options(users)
    users.set_defaults(func=_users)

    export = commands.add_parser(
        "export", help="write an area's data to an Excel workbook (as /ekspor does)",
        description="Writes the groups, households, visits, grants, roll-overs and mentors of "
                    "an area to an .xlsx file, with admin rights (every area). NIKs and phone "
                    "numbers are masked unless --unmasked is given.")
    export.add_argument("--area", help="Kemendagri code of the area (default: all of Indonesia)")
    export.add_argument("--out", required=True, help="the .xlsx file to write")
    export.add_argument("--unmasked", action="store_true",
                        help="write NIKs and phone numbers in full (personal data: handle with "
                             "care); without it they are masked")
    _demo_options(export)
    export.set_defaults(func=_export)

    importer = commands.add_parser(
        "import", help="import groups and households from a filled template (as sending the "
                       ".xlsx to the bot does)")
    importer.add_argument("file", help="the filled .xlsx template")
    importer.add_argument("--actor", type=int, required=True,
                          help="Telegram id of the coordinator or admin the import is done as "
                               "(their area limits the villages and mentors)")
    _demo_options(importer)
    importer.set_defaults(func=_import)

    db = commands.add_parser("db", help="database migrations")
    db.add_argument("action", choices=["upgrade", "downgrade"])
    db.add_argument("revision", nargs="?", default=None,
                    help="with downgrade: the revision to go back to (required), e.g. 0002 or base")
    db.set_defaults(func=_db)

    backup = commands.add_parser(
        "backup", help="write a consistent copy of the database to FILE (safe while the bot runs)",
        description="Copies the SQLite database with SQLite's online backup, checks the copy "
                    "and says what it holds. For PostgreSQL it prints the pg_dump command.")
    backup.add_argument("file", help="the backup file to write")
    backup.add_argument("--force", action="store_true", help="replace FILE if it exists")
    _demo_options(backup)
    backup.set_defaults(func=_backup)

    restore = commands.add_parser(
        "restore", help="put a backup back in place of the database (stop the bot first)",
        description="Checks FILE, keeps the current database as <name>.before-restore-<time>, "
                    "puts FILE in its place and migrates it when it is older. The bot must "
                    "be stopped. For PostgreSQL it prints the pg_restore commands.")
    restore.add_argument("file", help="a file written by `pendamping backup`")
    _demo_options(restore)
    restore.set_defaults(func=_restore)


    key = commands.add_parser("key", help="the data key that encrypts NIKs and phone numbers")
    key.add_argument("action", choices=["new"], help="new: print a fresh random key")
    key.set_defaults(func=_key)

    args = parser.parse_args(argv)
    return _with_plain_errors(args.func, args)


def _with_plain_errors(func, args: argparse.Namespace) -> int:
    """The one error boundary of every command: a missing or wrong data key, a wrong setting, a
    database or Telegram out of reach end with what to do, not a traceback (bot.problems). A
    bug still ends in one line; PENDAMPING_LOG_LEVEL=DEBUG shows its traceback."""
    from sqlalchemy.exc import StatementError

    from bot.logs import redact
    from bot.problems import explain
    from models.crypto import DataKeyError

    try:
        return func(args)
    except (DataKeyError, StatementError) as exc:
        cause = exc.orig if isinstance(exc, StatementError) else exc
        if isinstance(cause, DataKeyError):
            print(cause, file=sys.stderr)
            return 2
        problem = exc
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - the boundary: everything gets a plain line
        problem = exc
    message = explain(problem)
    if message:
        print(message, file=sys.stderr)
        return 2
    if os.environ.get("PENDAMPING_LOG_LEVEL", "").upper() == "DEBUG":
        import traceback

        print(redact("".join(traceback.format_exception(problem))), file=sys.stderr)
    print(redact(f"Pendamping KUBE stopped on an unexpected error ({type(problem).__name__}: "
                 f"{problem}). Run it again with PENDAMPING_LOG_LEVEL=DEBUG to see where."),
          file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
