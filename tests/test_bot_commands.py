"""Every command through the real discord.py client and the Discord emulator."""

from __future__ import annotations

from typing import Any

from services.runtime import Services
from services.tmdb.models import LIST_KINDS
from tests.fakes.tmdb import FakeTMDB
from tests.helpers import COMMAND_NAMES, component, embed, field, is_ephemeral, label, link_buttons, visible_answer


async def test_the_command_set_is_synced(bot: Any, emulator: Any) -> None:
    names = {c["name"] for c in emulator.commands}
    assert names == COMMAND_NAMES
    browse = emulator.command("browse")
    assert [c["value"] for c in browse["options"][0]["choices"]] == list(LIST_KINDS)


async def test_browse_pages_and_opens_a_card(bot: Any, emulator: Any, tmdb: FakeTMDB) -> None:
    popular = tmdb.lists()["popular"]
    rec = await emulator.invoke("browse", {"list": "popular"})
    assert await rec.wait_callback() == 5  # deferred at once
    msg = await visible_answer(rec)
    assert not is_ephemeral(msg)
    page = embed(msg)
    assert page["title"] == "Popular"
    assert label(popular[0]) in page["description"]
    assert page["footer"]["text"].startswith("Page 1 of 6")
    assert component(msg, "marquee:browse:popular:1:")["disabled"] is True  # previous
    next_id = component(msg, "marquee:browse:popular:2:")["custom_id"]

    click = await emulator.click(msg, next_id)
    await click.wait_for(lambda: "Page 2 of 6" in embed(emulator.message(msg["id"]))["footer"]["text"], 10, "page 2")
    turned = emulator.message(msg["id"])
    assert label(popular[20]) in embed(turned)["description"]
    assert label(popular[0]) not in embed(turned)["description"]

    # Someone else cannot turn alice's pages: they are told so, privately, and nothing changes.
    intruder = await emulator.click(
        turned, component(turned, "marquee:browse:popular:3:")["custom_id"], user=emulator.bob
    )
    note = await visible_answer(intruder)
    assert is_ephemeral(note) and "belong to whoever ran the command" in note["content"]
    assert "Page 2 of 6" in embed(emulator.message(msg["id"]))["footer"]["text"]

    select = component(turned, "marquee:open:")
    chosen = popular[21]
    pick = await emulator.select(turned, select["custom_id"], [str(chosen["id"])], user=emulator.bob)
    card = await visible_answer(pick)
    assert is_ephemeral(card)
    assert embed(card)["title"] == label(chosen)


async def test_movie_card_from_autocomplete(bot: Any, emulator: Any, tmdb: FakeTMDB, services: Services) -> None:
    choices = await emulator.autocomplete("movie", "title", "crimson")
    expected = [f for f in tmdb.films if "crimson" in f["title"].lower()]
    assert 0 < len(choices) <= 25
    assert choices[0] == {"name": label(expected[0]), "value": str(expected[0]["id"])}
    film = expected[1]
    index = film["id"] - 1000

    rec = await emulator.invoke("movie", {"title": choices[1]["value"]})
    card = await visible_answer(rec)
    shown = embed(card)
    assert shown["title"] == label(film)
    assert shown["url"] == f"https://www.themoviedb.org/movie/{film['id']}"
    assert shown["image"]["url"] == f"https://image.tmdb.org/t/p/w500/poster{film['id']}.jpg"  # big enough to see
    assert film["overview"] in shown["description"]
    runtime = 85 + index % 70
    assert field(card, "Runtime") == f"{runtime // 60}h {runtime % 60}m"
    assert field(card, "Director") == f"Director {index}"
    assert f"Actor {index}-0 as Role 0" in field(card, "Cast")
    assert field(card, "Certification") == "PG-13"
    assert "**Rent:** RentAll" in field(card, "Where to watch (US)")
    assert "JustWatch" in shown["footer"]["text"]
    assert len(shown["title"]) + len(shown["description"]) <= 6000
    trailer = link_buttons(card)
    assert trailer and trailer[0]["url"] == f"https://www.youtube.com/watch?v=trailer{index}"

    watched = component(card, "marquee:watched:")
    first = await visible_answer(await emulator.click(card, watched["custom_id"]))
    assert is_ephemeral(first) and "Marked" in first["content"] and "1 film." in first["content"]
    again = await visible_answer(await emulator.click(card, watched["custom_id"]))
    assert "already in your history" in again["content"]
    async with services.db.connection() as conn:
        rows = await conn.fetch("SELECT discord_id, movie_id FROM watch_history")
    assert [(r["discord_id"], r["movie_id"]) for r in rows] == [(int(emulator.alice["id"]), film["id"])]


async def test_movie_typed_by_hand_is_resolved_by_search(bot: Any, emulator: Any, tmdb: FakeTMDB) -> None:
    target = tmdb.films[12]
    card = await visible_answer(await emulator.invoke("movie", {"title": target["title"].upper()}))
    first_match = next(f for f in tmdb.films if f["title"] == target["title"])
    assert embed(card)["title"] == label(first_match)


async def test_trailer_link_and_films_without_one(bot: Any, emulator: Any, tmdb: FakeTMDB) -> None:
    with_trailer, without = tmdb.films[3], tmdb.films[7]
    msg = await visible_answer(await emulator.invoke("trailer", {"title": str(with_trailer["id"])}))
    assert "https://www.youtube.com/watch?v=trailer3" in msg["content"]
    msg = await visible_answer(await emulator.invoke("trailer", {"title": str(without["id"])}))
    # Finding nothing is private, like every other "nothing here", and names the next step.
    assert is_ephemeral(msg)
    assert msg["content"] == f"TMDB has no trailer for “{label(without)}” yet. `/movie` shows its card."


async def test_search_by_year_is_saved_to_history(bot: Any, emulator: Any, tmdb: FakeTMDB, services: Services) -> None:
    year = int(next(f for f in tmdb.films if f["title"].startswith("Silent"))["release_date"][:4])
    msg = await visible_answer(await emulator.invoke("search", {"query": "silent", "year": year}))
    expected = [f for f in tmdb.films if "silent" in f["title"].lower() and f["release_date"].startswith(str(year))]
    description = embed(msg)["description"]
    assert all(label(f) in description for f in expected)
    assert description.count("\n") + 1 == len(expected)
    async with services.db.connection() as conn:
        saved = await conn.fetch("SELECT discord_id, kind, query, year FROM search_history")
    assert [(r["discord_id"], r["kind"], r["query"], r["year"]) for r in saved] == [
        (int(emulator.alice["id"]), "search", "silent", year)
    ]
    pick = await emulator.select(msg, component(msg, "marquee:open:")["custom_id"], [str(expected[0]["id"])])
    assert embed(await visible_answer(pick))["title"] == label(expected[0])


async def test_watched_marks_and_lists_history(bot: Any, emulator: Any, tmdb: FakeTMDB) -> None:
    first, second = tmdb.films[1], tmdb.films[2]
    for film in (first, second):
        msg = await visible_answer(await emulator.invoke("watched", {"title": str(film["id"])}))
        assert is_ephemeral(msg) and label(film) in msg["content"]
    listing = await visible_answer(await emulator.invoke("watched"))
    assert is_ephemeral(listing)
    lines = embed(listing)["description"].splitlines()
    assert [line.split(" · ", 1)[1] for line in lines] == [label(second), label(first)]
    assert embed(listing)["footer"]["text"] == "2 films"
    remove = component(listing, "marquee:unwatch:")
    assert [o["value"] for o in remove["options"]] == [str(second["id"]), str(first["id"])]
    others = await visible_answer(await emulator.invoke("watched", user=emulator.bob))
    assert "Nothing yet" in embed(others)["description"]


async def test_help_lists_commands_and_credits_tmdb(bot: Any, emulator: Any) -> None:
    msg = await visible_answer(await emulator.invoke("help"))
    assert is_ephemeral(msg)
    names = [f["name"] for f in embed(msg)["fields"]]
    assert names[:19] == [
        *("/browse", "/movie", "/trailer", "/search", "/ask", "/foryou", "/movienight", "/similar", "/semantic"),
        *("/history", "/watched", "/watchlist", "/settings", "/import letterboxd", "/mydata", "/server-settings"),
        *("/upgrade", "/plan", "/help"),
    ]
    assert "**AI** ·" in field(msg, "/ask") and "**AI**" not in field(msg, "/search")
    assert "**AI** · Pro ·" in field(msg, "/semantic") and "**AI**" not in field(msg, "/similar")
    assert "not endorsed or certified by TMDB" in field(msg, "Data")


async def test_a_user_is_registered_by_their_first_write(bot: Any, emulator: Any, services: Services) -> None:
    await visible_answer(await emulator.invoke("help", user=emulator.bob))
    async with services.db.connection() as conn:
        assert await conn.fetchval("SELECT count(*) FROM users") == 0  # nothing stored before the ack
    for _ in range(2):
        await visible_answer(await emulator.invoke("watched", {"title": "1001"}, user=emulator.bob))
    async with services.db.connection() as conn:
        users = await conn.fetch("SELECT discord_id, tier FROM users")
    assert [(r["discord_id"], r["tier"]) for r in users] == [(int(emulator.bob["id"]), "free")]


async def test_autocomplete_stays_within_discord_limits(bot: Any, emulator: Any, tmdb: FakeTMDB) -> None:
    for film in tmdb.films[:40]:
        film["title"] = "Long " + "A" * 150 + str(film["id"])
    choices = await emulator.autocomplete("trailer", "title", "long")  # the emulator rejects >100 chars
    assert len(choices) == 20  # one TMDB page; Discord allows 25
    assert all(len(c["name"]) <= 100 and c["name"].endswith("…") for c in choices)
    empty = await emulator.autocomplete("movie", "title", "")
    assert [c["value"] for c in empty] == [str(f["id"]) for f in tmdb.lists()["popular"][:20]]
