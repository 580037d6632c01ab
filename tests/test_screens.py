"""What the visual tour asked for, and the design's main claim: buttons outlive a restart."""

from __future__ import annotations

from typing import Any

from services.runtime import Services
from tests.conftest import connected_bot
from tests.fakes.tmdb import FakeTMDB
from tests.helpers import component, components, embed, field, is_ephemeral, label, link_buttons, visible_answer


async def test_buttons_posted_before_a_restart_work_after_it(services: Services, emulator: Any, tmdb: FakeTMDB) -> None:
    async with connected_bot(services, emulator):
        listing = await visible_answer(await emulator.invoke("browse", {"list": "popular"}))
        card = await visible_answer(await emulator.invoke("movie", {"title": "1004"}))
    emulator._ready.clear()  # the next READY is the restarted bot's
    async with connected_bot(services, emulator):
        turn = await emulator.click(listing, component(listing, "marquee:browse:popular:2:")["custom_id"])
        await turn.wait_for(lambda: "Page 2" in embed(emulator.message(listing["id"]))["footer"]["text"], 10, "page 2")
        marked = await visible_answer(await emulator.click(card, "marquee:watched:1004"))
        assert "Marked" in marked["content"]
        chosen, turned = tmdb.lists()["popular"][23], emulator.message(listing["id"])
        pick = await emulator.select(turned, component(turned, "marquee:open:")["custom_id"], [str(chosen["id"])])
        assert embed(await visible_answer(pick))["title"] == label(chosen)


async def test_the_card_shows_dates_links_and_the_original_title(bot: Any, emulator: Any, tmdb: FakeTMDB) -> None:
    film = tmdb.film(1012)
    film.update(original_title="Le Titre", original_language="fr", release_date="2003-04-15")
    card = await visible_answer(await emulator.invoke("movie", {"title": "1012"}))
    assert field(card, "Released") == "15 April 2003"
    assert field(card, "Original title") == "Le Titre (fr)"
    links = {b["label"]: b["url"] for b in link_buttons(card)}
    assert links["IMDb"] == "https://www.imdb.com/title/tt9000012/"
    assert any(c.get("custom_id") == "marquee:watched:1012" for c in components(card))

    tmdb.film(1013)["release_date"] = "2099-05-01"
    coming = await visible_answer(await emulator.invoke("movie", {"title": "1013"}))
    assert field(coming, "Coming") == "1 May 2099"
    assert not any(str(c.get("custom_id", "")).startswith("marquee:watched:") for c in components(coming))
    refused = await visible_answer(await emulator.invoke("watched", {"title": "1013"}))
    assert is_ephemeral(refused) and "isn't out yet (coming 1 May 2099)" in refused["content"]


async def test_lists_show_release_dates_and_rich_options(bot: Any, emulator: Any, tmdb: FakeTMDB) -> None:
    first = tmdb.lists()["now_playing"][0]
    msg = await visible_answer(await emulator.invoke("browse", {"list": "now_playing"}))
    assert "out 10 January 1990" in embed(msg)["description"].splitlines()[0]
    option = component(msg, "marquee:open:")["options"][0]
    assert option["label"] == label(first)
    assert option["description"] == f"1990 · ★ {first['vote_average']:.1f} · Action, Drama"


async def test_search_results_page_like_browse(bot: Any, emulator: Any, tmdb: FakeTMDB) -> None:
    # TMDB's search (and the fake's): a title with a word starting with the query.
    matching = [f for f in tmdb.films if any(w.lower().startswith("e") for w in f["title"].split())]
    assert len(matching) > 20
    msg = await visible_answer(await emulator.invoke("search", {"query": "e"}))
    pages = -(-len(matching) // 20)
    assert embed(msg)["footer"]["text"].startswith(f"Page 1 of {pages}")
    next_id = next(
        c["custom_id"] for c in components(msg) if str(c.get("custom_id", "")).endswith(":2:" + emulator.alice["id"])
    )
    turn = await emulator.click(msg, next_id)
    await turn.wait_for(lambda: "Page 2" in embed(emulator.message(msg["id"]))["footer"]["text"], 10, "page 2")
    assert label(matching[20]) in embed(emulator.message(msg["id"]))["description"]
    turned = emulator.message(msg["id"])
    third = component(turned, "marquee:search:")["custom_id"]
    stranger = await visible_answer(await emulator.click(turned, third, user=emulator.bob))
    assert is_ephemeral(stranger) and "belong to whoever ran the command" in stranger["content"]


async def test_watch_history_pages_opens_and_removes(bot: Any, emulator: Any, tmdb: FakeTMDB) -> None:
    for n in range(12):
        await visible_answer(await emulator.invoke("watched", {"title": str(1020 + n)}))
    listing = await visible_answer(await emulator.invoke("watched"))
    assert embed(listing)["footer"]["text"] == "Page 1 of 2 · 12 films"
    turn = await emulator.click(listing, component(listing, "marquee:watchpage:2:")["custom_id"])
    await turn.wait_for(
        lambda: embed(emulator.message(listing["id"]))["footer"]["text"].startswith("Page 2"), 10, "page 2"
    )
    page_two = emulator.message(listing["id"])
    assert len(embed(page_two)["description"].splitlines()) == 2  # the two marked first
    removal = await emulator.select(page_two, component(page_two, "marquee:unwatch:")["custom_id"], ["1020"])
    await removal.wait_for(lambda: "11 films" in embed(emulator.message(listing["id"]))["footer"]["text"], 10, "11")
    assert label(tmdb.film(1020)) not in embed(emulator.message(listing["id"]))["description"]
    opened = await emulator.select(page_two, component(page_two, "marquee:open:")["custom_id"], ["1021"])
    assert embed(await visible_answer(opened))["title"] == label(tmdb.film(1021))


async def test_help_mentions_are_clickable(bot: Any, emulator: Any) -> None:
    msg = await visible_answer(await emulator.invoke("help"))
    browse = emulator.command("browse")
    assert field(msg, "/browse").startswith(f"</browse:{browse['id']}>")
    assert "e.g. `/search query: heat year: 1995`" in field(msg, "/search")
