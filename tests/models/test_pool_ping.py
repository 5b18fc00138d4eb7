"""PostgreSQL connections are pinged before use only after being idle (models.db): one the
server dropped meanwhile is replaced, one used moments ago costs no round trip."""

from __future__ import annotations

import pytest
from sqlalchemy import event, text

from models import db
from tests.conftest import postgresql_url

pytestmark = pytest.mark.skipif(postgresql_url() is None,
                                reason="PENDAMPING_TEST_DATABASE_URL not set")
PID = text("SELECT pg_backend_pid()")


async def test_idle_connections_are_pinged_and_replaced_when_dropped() -> None:
    engine = db.create_engine(postgresql_url() or "")
    records: list = []
    event.listen(engine.sync_engine, "checkin", lambda _c, record: records.append(record))
    dialect = engine.sync_engine.dialect
    pings: list[object] = []
    real_ping = dialect.do_ping

    def ping(dbapi_connection) -> bool:
        pings.append(dbapi_connection)
        return real_ping(dbapi_connection)

    dialect.do_ping = ping  # type: ignore[method-assign]
    try:
        async with engine.connect() as first, engine.connect() as second:
            pids = {(await first.execute(PID)).scalar_one(),
                    (await second.execute(PID)).scalar_one()}
        async with engine.connect() as connection:  # used moments ago: no ping
            victim = (await connection.execute(PID)).scalar_one()
            # The server drops the other one while it waits in the pool.
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"),
                                     {"pid": (pids - {victim}).pop()})
        assert pings == []
        for record in set(records):  # both idle long enough now
            record.info["used_at"] -= db.PING_IDLE_SECONDS + 1
        async with engine.connect() as first, engine.connect() as second:
            assert (await first.execute(text("SELECT 1"))).scalar_one() == 1
            assert (await second.execute(text("SELECT 1"))).scalar_one() == 1
        assert len(pings) == 2
    finally:
        await engine.dispose()
