"""An operator's mistakes end every `pendamping` command with one plain line saying what to do,
never a traceback (bot.problems, the CLI's error boundary)."""

from __future__ import annotations

import asyncio
import logging
import socket

import pytest

from bot.cli import main
from bot.leader import PostgresLeadership
from tests.bot.test_cli import _run_env
from tests.conftest import TEST_DATA_KEY


def _refused(capsys, argv: list[str], code: int = 2) -> str:
    """Runs the command, expects ``code``, and returns what it printed for the operator."""
    returned = main(argv)
    captured = capsys.readouterr()
    said = captured.err + captured.out
    assert returned == code, said
    assert "Traceback" not in said, said
    return said


@pytest.fixture
def no_env_file(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no .env: only what the test sets
    monkeypatch.setenv("PENDAMPING_DATA_KEY", TEST_DATA_KEY)


@pytest.mark.parametrize(("variable", "value", "said"), [
    ("PENDAMPING_HEALTH_PORT", "abc", ("Setting PENDAMPING_HEALTH_PORT: Input should be a valid "
                                      "integer, unable to parse string as an integer (it is 'abc')")),
    ("PENDAMPING_LANGUAGE", "fr", "Setting PENDAMPING_LANGUAGE: Input should be 'id' or 'en'"),
    ("PENDAMPING_ADMIN_IDS", "@budi", "Setting PENDAMPING_ADMIN_IDS:"),
    ("PENDAMPING_GROUP_MIN_SIZE", "12", ("PENDAMPING_GROUP_MIN_SIZE must not be larger than "
                                        "PENDAMPING_GROUP_MAX_SIZE")),
    ("PENDAMPING_BROADCAST_RATE_PER_SECOND", "40", ("PENDAMPING_BROADCAST_RATE_PER_SECOND must "
                                                   "be below PENDAMPING_TELEGRAM_RATE_PER_SECOND")),
    ("PENDAMPING_LEADER_RENEW_SECONDS", "10", ("PENDAMPING_LEADER_RENEW_SECONDS must be at most "
                                              "half of PENDAMPING_LEADER_LEASE_SECONDS")),
])
def test_a_wrong_setting_is_named_with_what_it_should_be(no_env_file, monkeypatch, capsys,
                                                        variable, value, said):
    monkeypatch.setenv(variable, value)
    printed = _refused(capsys, ["db", "upgrade"])
    assert said in printed
    assert "README: Settings" in printed


@pytest.mark.parametrize(("url", "hint"), [
    ("sqlite:///bot.db", "for example sqlite+aiosqlite:///bot.db"),
    ("postgres://u:geheim@db/kube", "for example postgresql+asyncpg://user@host:5432/database"),
    ("postgresql://u:geheim@db/kube", "for example postgresql+asyncpg://"),
    ("garbage", "for example sqlite+aiosqlite:///pendamping.db or postgresql+asyncpg://"),
])
def test_a_database_url_without_the_async_driver_gets_the_right_form(
        no_env_file, monkeypatch, capsys, tmp_path, url, hint):
    monkeypatch.setenv("PENDAMPING_DATABASE_URL", url)
    printed = _refused(capsys, ["backup", str(tmp_path / "copy.db")])
    assert "Setting PENDAMPING_DATABASE_URL: must start with sqlite+aiosqlite:// or " \
           "postgresql+asyncpg://" in printed
    assert hint in printed
    assert "geheim" not in printed  # a URL may hold a password: never echoed
    assert not list(tmp_path.glob("*.lock")) and not (tmp_path / "bot.db").exists()


def test_a_database_without_tables_says_to_upgrade_it(no_env_file, monkeypatch, capsys,
                                                      tmp_path):
    monkeypatch.setenv("PENDAMPING_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'new.db'}")
    printed = _refused(capsys, ["export", "--out", str(tmp_path / "x.xlsx")])
    assert "run `pendamping db upgrade` first" in printed


def test_a_database_server_that_does_not_answer_is_said_so(no_env_file, monkeypatch, capsys):
    port = _closed_port()  # nobody listens there
    monkeypatch.setenv("PENDAMPING_DATABASE_URL",
                       f"postgresql+asyncpg://postgres:geheim@127.0.0.1:{port}/kube")
    printed = _refused(capsys, ["db", "upgrade"])
    assert "The database server does not answer" in printed
    assert "PENDAMPING_DATABASE_URL" in printed and "geheim" not in printed


def test_an_unknown_log_level_is_refused(monkeypatch, tmp_path, template_db, capsys):
    _run_env(monkeypatch, tmp_path, template_db, key=TEST_DATA_KEY)
    monkeypatch.setenv("PENDAMPING_LOG_LEVEL", "verbose")
    printed = _refused(capsys, ["run"])
    assert "PENDAMPING_LOG_LEVEL is 'VERBOSE': use DEBUG, INFO, WARNING or ERROR." in printed


def test_a_taken_health_port_is_named_before_serving(monkeypatch, tmp_path, template_db, capsys):
    _run_env(monkeypatch, tmp_path, template_db, key=TEST_DATA_KEY)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setenv("PENDAMPING_HEALTH_HOST", "127.0.0.1")
        monkeypatch.setenv("PENDAMPING_HEALTH_PORT", str(port))
        printed = _refused(capsys, ["run"], code=3)
    assert (f"Port {port} is already in use on this machine: stop what uses it, or set "
            "PENDAMPING_HEALTH_PORT (0 turns it off) to a free port.") in printed


def test_a_taken_webhook_port_fails_before_telegram_is_told(monkeypatch, tmp_path, template_db,
                                                            capsys):
    _run_env(monkeypatch, tmp_path, template_db, key=TEST_DATA_KEY)
    monkeypatch.setenv("PENDAMPING_HEALTH_PORT", "0")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setenv("PENDAMPING_WEBHOOK_URL", "https://bot.example.go.id")
        monkeypatch.setenv("PENDAMPING_WEBHOOK_LISTEN", "127.0.0.1")
        monkeypatch.setenv("PENDAMPING_WEBHOOK_PORT", str(port))
        # Were Telegram contacted, this base URL would fail differently (and later).
        monkeypatch.setenv("PENDAMPING_TELEGRAM_BASE_URL", "http://127.0.0.1:9/bot")
        printed = _refused(capsys, ["run", "--webhook"], code=3)
    assert f"Port {port} is already in use" in printed and "PENDAMPING_WEBHOOK_PORT" in printed


def test_telegrams_webhook_must_be_https(monkeypatch, tmp_path, template_db, capsys):
    _run_env(monkeypatch, tmp_path, template_db, key=TEST_DATA_KEY)
    monkeypatch.setenv("PENDAMPING_WEBHOOK_URL", "bot.example.go.id")
    monkeypatch.setenv("PENDAMPING_HEALTH_PORT", "0")
    printed = _refused(capsys, ["run", "--webhook"], code=3)
    assert "PENDAMPING_WEBHOOK_URL must be an https address" in printed


def test_telegram_out_of_reach_is_said_plainly(monkeypatch, tmp_path, template_db, capsys):
    _run_env(monkeypatch, tmp_path, template_db, key=TEST_DATA_KEY)
    port = _closed_port()
    monkeypatch.setenv("PENDAMPING_TELEGRAM_BASE_URL", f"http://127.0.0.1:{port}/bot")
    monkeypatch.setenv("PENDAMPING_HEALTH_PORT", "0")
    printed = _refused(capsys, ["run"])
    assert "Telegram cannot be reached: check this machine's network and " \
           "PENDAMPING_TELEGRAM_BASE_URL." in printed
    assert "TEST-TOKEN" not in printed


def _closed_port() -> int:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        return closed.getsockname()[1]


async def test_a_standby_names_the_database_it_cannot_reach_once(caplog):
    port = _closed_port()
    leadership = PostgresLeadership(f"postgresql+asyncpg://postgres:geheim@127.0.0.1:{port}/kube",
                                    poll_seconds=0.05)
    with caplog.at_level(logging.WARNING, logger="bot.leader"), pytest.raises(TimeoutError):
        await asyncio.wait_for(leadership.acquire(), 1)
    warnings = [r.getMessage() for r in caplog.records if "not reachable" in r.getMessage()]
    # Named plainly (without the password), and once while the problem stays the same.
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith(
        f"standby: database postgresql+asyncpg://postgres:***@127.0.0.1:{port}/kube not "
        "reachable (The database server does not answer.")


def test_a_new_sqlite_database_is_readable_by_its_owner_only(no_env_file, monkeypatch, capsys,
                                                             tmp_path):
    import stat

    database = tmp_path / "pendamping.db"
    monkeypatch.setenv("PENDAMPING_DATABASE_URL", f"sqlite+aiosqlite:///{database}")
    assert main(["db", "upgrade"]) == 0
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    database.chmod(0o640)  # the operator's own choice is kept
    assert main(["db", "upgrade"]) == 0
    assert stat.S_IMODE(database.stat().st_mode) == 0o640


@pytest.mark.parametrize("command", [["db", "upgrade"], ["run"]])
def test_a_missing_sqlite_folder_is_named_and_not_made(no_env_file, monkeypatch, capsys,
                                                       tmp_path, command):
    folder = tmp_path / "no" / "such"
    monkeypatch.setenv("PENDAMPING_DATABASE_URL", f"sqlite+aiosqlite:///{folder / 'bot.db'}")
    monkeypatch.setenv("PENDAMPING_TELEGRAM_TOKEN", "123456:TEST-TOKEN-FOR-THE-CLI-TEST")
    monkeypatch.setenv("PENDAMPING_HEALTH_PORT", "0")
    printed = _refused(capsys, command)
    assert (f"The folder of the SQLite database, {folder}, does not exist: create it, or "
            "correct PENDAMPING_DATABASE_URL.") in printed
    assert not (tmp_path / "no").exists()  # a typo starts no bot on an empty database


def test_an_export_is_readable_by_its_owner_only(template_db, tmp_path, capsys):
    import shutil
    import stat

    folder = tmp_path / "demo"
    folder.mkdir()
    shutil.copyfile(template_db, folder / "demo.db")
    out = tmp_path / "all.xlsx"
    assert main(["export", "--out", str(out), "--unmasked", "--demo",
                 "--folder", str(folder)]) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
