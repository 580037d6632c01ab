"""Makes sure every Discord user we talk to has a `users` row, without a write per command."""

from __future__ import annotations

from collections import OrderedDict

from services.db.pool import Database
from services.db.users import ensure_user


class UserDirectory:
    def __init__(self, db: Database, capacity: int = 100_000) -> None:
        self._db = db
        self._capacity = capacity
        self._known: OrderedDict[int, None] = OrderedDict()

    async def ensure(self, discord_id: int) -> None:
        if discord_id in self._known:
            self._known.move_to_end(discord_id)
            return
        async with self._db.transaction() as conn:
            await ensure_user(conn, discord_id)
        self._known[discord_id] = None
        if len(self._known) > self._capacity:
            self._known.popitem(last=False)
