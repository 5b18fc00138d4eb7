"""A demo folder with a migrated database, for `pendamping backup` and `restore`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture
def folder(template_db: Path, tmp_path: Path) -> Path:
    """A demo folder whose database is a migrated copy with the official areas."""
    demo = tmp_path / "demo"
    demo.mkdir()
    shutil.copyfile(template_db, demo / "demo.db")
    return demo
