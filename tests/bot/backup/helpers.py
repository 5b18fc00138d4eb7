"""Reading what a backup or a restore left behind, and running the command line."""

from __future__ import annotations

import hashlib
import sqlite3
from contextlib import closing
from pathlib import Path

from bot.cli import main

KEPT = "demo.db.before-restore-20261125T030000Z"  # NOW, in UTC


def url_of(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def cli(capsys, folder: Path, *args: str) -> tuple[int, str, str]:
    code = main([*args, "--demo", "--folder", str(folder)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def dump(path: Path) -> dict[str, list[tuple]]:
    """Every row of every table, and the schema itself, in a comparable form."""
    with closing(sqlite3.connect(path)) as connection:
        tables = [name for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name")]
        contents = {name: sorted(connection.execute(f'SELECT * FROM "{name}"'), key=repr)
                    for name in tables}
        contents["(schema)"] = sorted(connection.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"),
            key=repr)
    return contents


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))

