"""TMDB data is untrusted input: bad answers are retried and never cached, bad items are
skipped, its text cannot plant markup, odd text never costs the answer, duplicates show once."""

from __future__ import annotations

from typing import Any

from services.runtime import Services
from tests.fakes.tmdb import FakeTMDB
from tests.helpers import component, embed, field, is_ephemeral, label, sample, visible_answer

PLANTED = "[Free Nitro](https://evil.example/nitro) @everyone <@1> **bold**"


def is_escaped(text: str) -> bool:
    """The planted text shows as itself: its link, mention and bold markers are all escaped."""
    return (
        "\\[Free Nitro\\](https://evil.example/nitro)" in text
        and "\\@everyone" in text
        and "\\<\\@1\\>" in text
        and "\\*\\*bold\\*\\*" in text
    )


async def test_a_malformed_answer_is_retried_and_never_cached(services: Services, tmdb: FakeTMDB) -> None:
    tmdb.send_raw(b'{"page": 1, "results": [{"id": 10', times=1)  # truncated JSON in a 200
    tmdb.send_raw(b"", times=1)  # empty
    page = await services.catalog.browse("popular")
    assert [c.status for c in tmdb.calls_to("/movie/popular")] == [200, 200, 200]  # retried like a 5xx
    assert page.results[0].id == tmdb.lists()["popular"][0]["id"]
    assert sample(services.metrics, "marquee_tmdb_bad_data_total") == 2

    tmdb.send_raw(b'{"page": 1}', times=3)  # valid JSON, but no results: not an answer either
    try:
        await services.catalog.search("echo")
    except Exception as exc:
        assert "TMDB isn't answering" in exc.user_message  # type: ignore[attr-defined]
    else:
        raise AssertionError("a list without results was taken as an answer")
    found = await services.catalog.search("echo")  # TMDB is fine again: asked again, not a cached failure
    assert found.results and len(tmdb.calls_to("/search/movie")) == 4


async def test_one_bad_item_is_skipped_and_the_page_still_shows(
    bot: Any, emulator: Any, tmdb: FakeTMDB, services: Services
) -> None:
    popular = tmdb.lists()["popular"]
    broken = popular[3]
    del broken["id"]  # seen: a result without id made the whole page fail, from cache, for everyone
    popular[5].update(title={"nested": "object"}, original_title=None)
    msg = await visible_answer(await emulator.invoke("browse", {"list": "popular"}))
    description = embed(msg)["description"]
    assert label(popular[0]) in description and label(popular[4]) in description
    assert broken["title"] not in description
    assert description.count("\n") + 1 == 19
    assert f"TMDB film {popular[5]['id']}" in description  # a non-text title gets a plain name


async def test_tmdb_text_cannot_plant_markup(bot: Any, emulator: Any, tmdb: FakeTMDB) -> None:
    film = tmdb.film(1004)
    film["title"] = f"Heist {PLANTED}"
    film["overview"] = f"An overview {PLANTED}\n# a heading"
    msg = await visible_answer(await emulator.invoke("trailer", {"title": "1004"}))
    assert is_escaped(msg["content"])
    msg = await visible_answer(await emulator.invoke("movie", {"title": "1004"}))
    card = embed(msg)
    assert is_escaped(card["title"]) and is_escaped(card["description"])
    assert "\n\\# a heading" in card["description"]
    msg = await visible_answer(await emulator.invoke("search", {"query": "heist"}))
    assert is_escaped(embed(msg)["description"])
    option = next(o for o in component(msg, "marquee:open:")["options"] if o["value"] == "1004")
    assert option["label"].startswith("Heist [Free Nitro]")  # select labels render no markdown: shown as is
    msg = await visible_answer(await emulator.invoke("watched", {"title": "1004"}))
    assert is_escaped(msg["content"]) and is_ephemeral(msg)


async def test_odd_text_never_costs_the_answer(bot: Any, emulator: Any, tmdb: FakeTMDB, services: Services) -> None:
    film = tmdb.film(1008)
    film["overview"] = "A NUL\x00 in the overview\x07 and a bell"
    film["title"] = "Long " + "Title " * 200  # 1,200 characters: more than the title index holds
    msg = await visible_answer(await emulator.invoke("movie", {"title": "1008"}))
    assert "A NUL in the overview and a bell" in embed(msg)["description"]
    assert embed(msg)["title"].startswith("Long Title")
    async with services.db.connection() as conn:
        stored = await conn.fetchrow("SELECT title, overview FROM movies WHERE id = 1008")
    assert stored is not None and "\x00" not in stored["overview"] and len(stored["title"]) <= 300

    # A write the database refuses for any reason is best-effort: the user still gets the answer.
    async with services.db.connection() as conn:
        await conn.execute("ALTER TABLE movies ADD CONSTRAINT no_titles CHECK (length(title) < 3) NOT VALID")
    msg = await visible_answer(await emulator.invoke("browse", {"list": "top_rated"}))
    assert embed(msg)["title"] == "Top rated"


async def test_a_film_listed_twice_appears_once(bot: Any, emulator: Any, tmdb: FakeTMDB) -> None:
    popular = sorted(tmdb.films, key=lambda f: -f["popularity"])
    twice = popular[2]
    # Within a page: the same film at positions 3 and 7.
    tmdb.films.insert(tmdb.films.index(popular[6]), dict(twice))
    msg = await visible_answer(await emulator.invoke("browse", {"list": "popular"}))
    description = embed(msg)["description"]
    assert description.count(label(twice)) == 1
    values = [o["value"] for o in component(msg, "marquee:open:")["options"]]
    assert len(values) == len(set(values))  # real Discord rejects repeated values (50035)

    # Across pages: the last film of page 1 also heads page 2 (the list moved while paging).
    last_on_first = tmdb.lists()["popular"][19]
    tmdb.films.insert(tmdb.films.index(tmdb.lists()["popular"][20]), dict(last_on_first))
    click = await emulator.click(msg, component(msg, "marquee:browse:popular:2:")["custom_id"])
    await click.wait_for(lambda: "Page 2" in embed(emulator.message(msg["id"]))["footer"]["text"], 10, "page 2")
    assert label(last_on_first) not in embed(emulator.message(msg["id"]))["description"]


async def test_a_bad_provider_or_watch_link_is_dropped(bot: Any, emulator: Any, tmdb: FakeTMDB) -> None:
    original = tmdb._answer

    def broken_providers(path: str, request: Any) -> Any:
        response = original(path, request)
        if path == "/movie/1009":
            import json

            data = json.loads(bytes(response.body))  # type: ignore[arg-type]
            data["watch/providers"]["results"]["US"]["rent"] = [
                {"logo_path": "/x.png"},
                {"provider_name": "Kept", "provider_id": 77},
            ]
            # A link that closes the markdown link and opens one of its own.
            data["watch/providers"]["results"]["US"]["link"] = (
                "https://www.themoviedb.org/x) [Nitro](https://evil.example"
            )
            from aiohttp import web

            return web.json_response(data)
        return response

    tmdb._answer = broken_providers  # type: ignore[method-assign]
    msg = await visible_answer(await emulator.invoke("movie", {"title": "1009"}))
    assert "**Rent:** Kept" in field(msg, "Where to watch")
    assert "evil.example" not in field(msg, "Where to watch")
