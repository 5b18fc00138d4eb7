"""The `pendamping` command line: its parser, the one error boundary of every command, and the
exchange's export and import; the other commands are in bot.commands."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import traceback
from pathlib import Path

from sqlalchemy.exc import StatementError

from bot import commands as command
from bot.commands import demo_settings as _demo_settings
from bot.core import clock
from bot.core.enums import MentorStatus, Role
from bot.core.periods import FIRST_YEAR, parse_code
from bot.core.places import default_index
from bot.core.settings import Settings
from bot.logs import redact
from bot.problems import explain
from models import crypto
from models import mentors as mentor_queries
from models.crypto import DataKeyError
from models.db import create_engine, create_sessionmaker


def _export(args: argparse.Namespace) -> int:
    from models import exchange  # loads openpyxl: only for these two commands

    settings = _demo_settings(args.folder) if args.demo else Settings()
    crypto.configure(settings.data_key)
    places = default_index()
    if args.area and args.area not in places:
        print(f"Unknown area code {args.area!r} (a Kemendagri code such as 32.02).",
              file=sys.stderr)
        return 2
    period = None
    if args.period is not None:
        period = parse_code(args.period)
        if period is None:
            print(f"Unknown period {args.period!r}: write a month (2027-01), a quarter "
                  "(2027-Q1), a year (2027) or a span of months (2027-02..2027-04), from "
                  f"{FIRST_YEAR} on.", file=sys.stderr)
            return 2

    async def main() -> None:
        engine = create_engine(settings.database_url)
        try:
            async with create_sessionmaker(engine)() as session:
                content, counts = await exchange.export_workbook(
                    session=session, area_code=args.area, places=places,
                    masked=not args.unmasked, now=clock.now(),
                    min_size=settings.group_min_size, max_size=settings.group_max_size,
                    period=period, far_km=settings.visit_far_km)
                # Names (and with --unmasked, NIKs and phones): for its owner's eyes only.
                descriptor = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(descriptor, "wb") as out:
                    out.write(content)
                os.chmod(args.out, 0o600)
                exchange.record_export(session=session, actor_telegram_id=None,
                                       area_code=args.area, masked=not args.unmasked,
                                       counts=counts, via="cli",
                                       period=period.code if period else None)
                await session.commit()
        finally:
            await engine.dispose()
        rows = ", ".join(f"{sheet} {n}" for sheet, n in counts.items())
        masking = "unmasked" if args.unmasked else "NIK and phone masked"
        span = f"{period.label('en')}, " if period else ""
        print(f"Wrote {args.out} ({span}{masking}): {rows}")

    asyncio.run(main())
    return 0


def _import(args: argparse.Namespace) -> int:
    from handlers import exchange_words  # with models.exchange: loads openpyxl
    from models import exchange

    settings = _demo_settings(args.folder) if args.demo else Settings()
    crypto.configure(settings.data_key)
    try:
        raw = exchange.read_workbook(Path(args.file).read_bytes(),
                                     exchange.import_limits(settings))
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
                    rules=settings.reminder_rules,
                    lpj_months=settings.lpj_months)
        finally:
            await engine.dispose()
        lang = actor.language or "id"
        print(exchange_words.report_text(report, lang, Path(args.file).name))
        for line in exchange_words.refusal_lines(report, lang):
            print(line)
        return 0

    return asyncio.run(main())


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
    demo.set_defaults(func=command.demo)

    run = commands.add_parser(
        "run", help="run the real bot (long polling, or --webhook)",
        description="Serves Telegram. With PostgreSQL, start it on two machines: one leads, "
                    "the other waits as a hot standby and takes over within seconds.")
    run.add_argument("--webhook", action="store_true",
                     help="receive updates on the bot's webhook server (PENDAMPING_WEBHOOK_URL, "
                          "_PORT, _SECRET) instead of long polling")
    run.set_defaults(func=command.run)

    reminders = commands.add_parser("reminders", help="reminder sweeps")
    reminders.add_argument("action", choices=["run"])
    reminders.add_argument("--at", type=command.instant,
                           help="as of this ISO date-time, e.g. 2027-01-07T07:05 (no offset: WIB)")
    reminders.add_argument("--dry-run", action="store_true",
                           help="print what would be sent and to whom; send nothing")
    reminders.add_argument("--demo", action="store_true",
                           help="use the demo's database (and a local stand-in for Telegram)")
    reminders.add_argument("--folder", default=".demo", help="the demo's folder (with --demo)")
    reminders.set_defaults(func=command.reminders)

    users = commands.add_parser("users", help="user roles")
    users.add_argument("action", choices=["promote"])
    users.add_argument("telegram_id", type=int)
    users.add_argument("--role", default="coordinator", choices=["mentor", "coordinator", "admin"])
    users.add_argument("--area", help="Kemendagri code of the area (coordinators)")
    users.add_argument("--name", help="name, for a user who has not written to the bot yet")
    _demo_options(users)
    users.set_defaults(func=command.users)

    export = commands.add_parser(
        "export", help="write an area's data to an Excel workbook (as /ekspor does)",
        description="Writes the period's figures per district (Ringkasan), the groups, "
                    "households, visits, trainings, group history, grants, roll-overs and "
                    "mentors of an area to an .xlsx file, with admin rights (every area). "
                    "Visits, trainings, history and roll-overs are those of --period. NIKs "
                    "and phone numbers are masked unless --unmasked is given.")
    export.add_argument("--area", help="Kemendagri code of the area (default: all of Indonesia)")
    export.add_argument("--period",
                        help="2027-01 (a month), 2027-Q1 (a quarter), 2027 (a year) or "
                             "2027-02..2027-04 (months); default: every date, no Ringkasan")
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
    db.set_defaults(func=command.db)

    backup = commands.add_parser(
        "backup", help="write a consistent copy of the database to FILE (safe while the bot runs)",
        description="Copies the SQLite database with SQLite's online backup, checks the copy "
                    "and says what it holds. For PostgreSQL it prints the pg_dump command.")
    backup.add_argument("file", help="the backup file to write")
    backup.add_argument("--force", action="store_true", help="replace FILE if it exists")
    _demo_options(backup)
    backup.set_defaults(func=command.backup)

    restore = commands.add_parser(
        "restore", help="put a backup back in place of the database (stop the bot first)",
        description="Checks FILE, keeps the current database as <name>.before-restore-<time>, "
                    "puts FILE in its place and migrates it when it is older. The bot must "
                    "be stopped. For PostgreSQL it prints the pg_restore commands.")
    restore.add_argument("file", help="a file written by `pendamping backup`")
    _demo_options(restore)
    restore.set_defaults(func=command.restore)


    key = commands.add_parser("key", help="the data key that encrypts NIKs and phone numbers")
    key.add_argument("action", choices=["new"], help="new: print a fresh random key")
    key.set_defaults(func=command.key)

    args = parser.parse_args(argv)
    return _with_plain_errors(args.func, args)


def _with_plain_errors(func, args: argparse.Namespace) -> int:
    """The one error boundary of every command: a missing or wrong data key, a wrong setting, a
    database or Telegram out of reach end with what to do, not a traceback (bot.problems). A
    bug still ends in one line; PENDAMPING_LOG_LEVEL=DEBUG shows its traceback."""
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
        print(redact("".join(traceback.format_exception(problem))), file=sys.stderr)
    print(redact(f"Pendamping KUBE stopped on an unexpected error ({type(problem).__name__}: "
                 f"{problem}). Run it again with PENDAMPING_LOG_LEVEL=DEBUG to see where."),
          file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
