"""PTB's persistence (bot.telegram.persistence): a state or draft handed over unchanged is not
written again, a changed one is, and what a save committed itself is not written twice."""

from __future__ import annotations

from sqlalchemy import event, select

from bot.telegram.persistence import DatabasePersistence
from models.db import create_engine, create_sessionmaker
from models.tables import ConversationState, UserData

SITI = 700001
KEY = (SITI, SITI)


async def _stored(sessionmaker) -> tuple[list[tuple[str, int]], dict[int, dict]]:
    async with sessionmaker() as session:
        states = (await session.execute(select(ConversationState))).scalars().all()
        users = (await session.execute(select(UserData))).scalars().all()
    return ([(row.name, row.state) for row in states],
            {row.user_id: row.data for row in users})


async def test_only_what_changed_is_written_and_a_saves_commit_is_not_repeated(settings):
    engine = create_engine(settings.database_url)
    sessionmaker = create_sessionmaker(engine)
    writes: list[str] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            writes.append(statement.split()[0] + " " + statement.split()[2])

    try:
        persistence = DatabasePersistence(sessionmaker)
        assert await persistence.get_conversations("grant") == {}
        await persistence.get_user_data()
        await persistence.update_conversation("grant", KEY, 2)
        await persistence.update_user_data(SITI, {"draft:grant": {"kind": "uep"}})
        assert len(writes) == 2
        # The same state and draft again (a question asked again): nothing written.
        await persistence.update_conversation("grant", KEY, 2)
        await persistence.update_user_data(SITI, {"draft:grant": {"kind": "uep"}})
        assert len(writes) == 2
        await persistence.update_conversation("grant", KEY, 3)
        assert len(writes) == 3
        assert await _stored(sessionmaker) == (
            [("grant", 3)], {SITI: {"draft:grant": {"kind": "uep"}}})

        # A restarted bot knows what is stored: the same state again is not written either.
        again = DatabasePersistence(sessionmaker)
        assert await again.get_conversations("grant") == {KEY: 3}
        await again.get_user_data()
        await again.update_conversation("grant", KEY, 3)
        assert len(writes) == 3

        # A save's commit ended the draft and the conversation (models.drafts): PTB's END and
        # emptied data right after are not written again ...
        async with sessionmaker() as session:
            row = await session.get(UserData, SITI)
            await session.delete(row)
            state = (await session.execute(select(ConversationState))).scalar_one()
            await session.delete(state)
            await session.commit()
        writes.clear()
        again.committed_elsewhere(user_id=SITI, data={},
                                  conversation=("grant", "[700001, 700001]"))
        await again.update_conversation("grant", KEY, None)
        await again.update_user_data(SITI, {})
        assert writes == []
        # ... while a new conversation after it is.
        await again.update_conversation("grant", KEY, 1)
        assert await _stored(sessionmaker) == ([("grant", 1)], {})
    finally:
        await engine.dispose()
