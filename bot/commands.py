"""The `pendamping` commands that run and look after the bot: demo, run, reminders, users, db,
backup, restore, key (bot.cli parses the command line, and has the exchange's export and import).

Telegram, the Application and the demo are imported where they are used: a command that needs
none of them (db, backup, key ...) starts without loading them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.backup import backup_command, restore_command
from bot.core import clock
from bot.core.enums import Role
from bot.core.places import default_index
from bot.core.settings import Settings
from bot.logs import setup_logging
from bot.startup import check_data_key, last_update_id, prepare_database
from models import crypto
from models import mentors as mentor_queries
from models.db import create_engine, create_sessionmaker, downgrade_sync

DEMO_ADMIN_ID = 900001
DEMO_MENTOR_ID = 700001


def demo_settings(folder: str, *, create_key: bool = True) -> Settings:
    """The demo's settings; ``create_key=False`` for commands that only copy the file (backup,
    restore): they need no key and must not leave one in a folder they merely looked at."""
    from bot.demo import DATA_KEY_FILE, demo_data_key

    key_file = Path(folder) / DATA_KEY_FILE
    if create_key:
        data_key = demo_data_key(Path(folder))
    else:
        data_key = key_file.read_text(encoding="ascii").strip() if key_file.exists() else ""
    return Settings(
        _env_file=None,
        data_key=data_key,
        database_url=f"sqlite+aiosqlite:///{Path(folder) / 'demo.db'}",
        admin_ids=[DEMO_ADMIN_ID],
        telegram_token="123456:DEMO-TOKEN-NOT-SECRET",
        language="id",
        # A script piped into the demo sends each line as soon as the last one is answered:
        # the flood throttle would drop lines of a walkthrough, never a person's typing.
        throttle_burst=10_000,
    )


def demo(args: argparse.Namespace) -> int:
    from bot.app import build_application
    from bot.demo import run_demo

    folder = Path(args.folder)
    folder.mkdir(parents=True, exist_ok=True)
    db_path = folder / "demo.db"
    if args.fresh and db_path.exists():
        db_path.unlink()
    settings = demo_settings(args.folder)
    if settings.dashboard_port:
        from bot.web.server import free_port

        # Another demo, or the bot itself, may hold the usual port: the link says which.
        settings.dashboard_port = free_port(settings.dashboard_listen, settings.dashboard_port)

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
                       first_update_id=await last_update_id(settings) + 1,
                       files_dir=folder / "files")

    asyncio.run(main())
    return 0


def run(args: argparse.Namespace) -> int:
    from bot import serve  # python-telegram-bot: loaded only to serve

    settings = Settings()
    token = settings.telegram_token.get_secret_value()
    level = os.environ.get("PENDAMPING_LOG_LEVEL", "INFO").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        print(f"PENDAMPING_LOG_LEVEL is {level!r}: use DEBUG, INFO, WARNING or ERROR.",
              file=sys.stderr)
        return 2
    setup_logging(level,
                  secrets=[token, serve.webhook_secret(settings)])
    if not token:
        print("PENDAMPING_TELEGRAM_TOKEN is not set (see README: Running against Telegram).",
              file=sys.stderr)
        return 2
    try:
        return serve.run(settings, webhook=args.webhook)
    except serve.ServeError as problem:
        print(problem, file=sys.stderr)
        return 3


def instant(text: str | None):
    """--at: an ISO date-time; without an offset it is read as WIB (Asia/Jakarta)."""
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


def print_digests(report, out=None) -> None:
    out = out or sys.stdout
    for digest in report.digests:
        print(f"--> {digest.name} (Telegram {digest.telegram_id}):", file=out)
        for line in digest.text.splitlines():
            print(f"    {line}", file=out)
        if digest.markup:
            for row in digest.markup.inline_keyboard:
                print("    " + "  ".join(f"[{b.text}]" for b in row), file=out)


def reminders(args: argparse.Namespace) -> int:
    from telegram import Bot

    from bot.localapi import LocalBotApi
    from bot.telegram.transport import telegram_request
    from scheduler.sweep import SEND_CONCURRENCY, sweep

    settings = demo_settings(args.folder) if args.demo else Settings()
    token = settings.telegram_token.get_secret_value()
    setup_logging("WARNING", secrets=[token])
    now = instant(args.at)

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
                # would time out and count as failed. The bot's own transport, so a failed
                # send is judged "never left" or "maybe delivered" as the bot judges it.
                request = telegram_request(settings, pool_size=SEND_CONCURRENCY)
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
            print_digests(report)
            return 0
        finally:
            if bot is not None:
                await bot.shutdown()
            if server is not None:
                await server.stop()
            await engine.dispose()

    return asyncio.run(main())


def users(args: argparse.Namespace) -> int:
    settings = demo_settings(args.folder) if args.demo else Settings()
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


def db(args: argparse.Namespace) -> int:
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


def backup(args: argparse.Namespace) -> int:
    settings = demo_settings(args.folder, create_key=False) if args.demo else Settings()
    return backup_command(settings.database_url, args.file, force=args.force)


def restore(args: argparse.Namespace) -> int:
    settings = demo_settings(args.folder, create_key=False) if args.demo else Settings()
    return restore_command(settings.database_url, args.file, now=clock.now())


def key(args: argparse.Namespace) -> int:
    print(crypto.new_key())
    print(f"(a new data key: set it as {crypto.KEY_VARIABLE} and keep a copy somewhere safe; "
          "a lost key cannot be recovered, and neither can the data it encrypted)",
          file=sys.stderr)
    return 0
