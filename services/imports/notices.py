"""The DMs imports send through the outbox (services/notices.py): an import's summary when it
outlived its interaction (Discord's 15 minutes), and a Trakt connection that stopped working."""

from __future__ import annotations

from services.db.notices import Notice
from services.imports.service import ImportService
from services.notices import DM, Renderer

DONE = "import_done"
TRAKT_BROKEN = "trakt_broken"


def import_renderers(imports: ImportService) -> dict[str, Renderer]:
    async def done(notice: Notice) -> DM:
        finished = await imports.finished(int(notice.payload["import_id"]))
        files = (("not_matched.csv", finished.csv),) if finished.csv else ()
        return DM(finished.text, files=files)

    async def trakt_broken(notice: Notice) -> DM:
        return DM(
            "Marquee can no longer read your Trakt account (the connection was revoked or has expired), "
            "so syncing has stopped. Run `/import trakt` to connect it again."
        )

    return {DONE: done, TRAKT_BROKEN: trakt_broken}
