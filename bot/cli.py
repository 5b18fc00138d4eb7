"""The `pendamping` command: demo, run, db."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

from bot.settings import Settings

log = logging.getLogger(__name__)

DEMO_ADMIN_ID = 900001
DEMO_MENTOR_ID = 700001


async def last_update_id(settings: Settings) -> int:
    from models import updates as update_queries
    from models.db import create_engine, create_sessionmaker

    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            return await update_queries.last_handled(session=session)
    finally:
        await engine.dispose()


async def prepare_database(settings: Settings) -> int:
    """Applies migrations and loads the official areas when missing; returns areas added."""
    from models.areas import load_areas
    from models.db import create_engine, create_sessionmaker, upgrade

    await upgrade(settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            return await load_areas(session=session)
    finally:
        await engine.dispose()


def _demo(args: argparse.Namespace) -> int:
    from bot.app import build_application
    from bot.demo import run_demo

    folder = Path(args.folder)
    folder.mkdir(parents=True, exist_ok=True)
    db_path = folder / "demo.db"
    if args.fresh and db_path.exists():
        db_path.unlink()
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{db_path}",
        admin_ids=[DEMO_ADMIN_ID],
        telegram_token="123456:DEMO-TOKEN-NOT-SECRET",
        language="id",
    )

    async def main() -> None:
        added = await prepare_database(settings)
        if added:
            print(f"(Memuat {added} wilayah resmi Kemendagri ke {db_path})")
        await run_demo(lambda base_url: build_application(settings, base_url=base_url),
                       admin_id=DEMO_ADMIN_ID, mentor_id=DEMO_MENTOR_ID,
                       first_update_id=await last_update_id(settings) + 1)

    asyncio.run(main())
    return 0


def _run(args: argparse.Namespace) -> int:
    from bot.app import build_application
    from bot.logs import setup_logging

    settings = Settings()
    token = settings.telegram_token.get_secret_value()
    setup_logging(os.environ.get("PENDAMPING_LOG_LEVEL", "INFO"), secrets=[token])
    if not token:
        print("PENDAMPING_TELEGRAM_TOKEN is not set (see README: Running against Telegram).",
              file=sys.stderr)
        return 2
    if settings.is_sqlite:
        asyncio.run(prepare_database(settings))
    application = build_application(settings)
    log.info("starting long polling")
    application.run_polling(allowed_updates=["message", "callback_query"])
    return 0


def _db(args: argparse.Namespace) -> int:
    from models.db import downgrade_sync

    settings = Settings()
    if args.action == "upgrade":
        added = asyncio.run(prepare_database(settings))
        print(f"database at head; {added} areas loaded")
    else:
        downgrade_sync(settings.database_url, args.revision)
        print(f"database downgraded to {args.revision}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pendamping", description="Pendamping KUBE bot")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="try the bot in this terminal (no token, no network)")
    demo.add_argument("--folder", default=".demo", help="where the demo database lives")
    demo.add_argument("--fresh", action="store_true", help="start from an empty database")
    demo.set_defaults(func=_demo)

    run = commands.add_parser("run", help="run the real bot (long polling)")
    run.set_defaults(func=_run)

    db = commands.add_parser("db", help="database migrations")
    db.add_argument("action", choices=["upgrade", "downgrade"])
    db.add_argument("revision", nargs="?", default="base")
    db.set_defaults(func=_db)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
