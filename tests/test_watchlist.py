"""The watchlist end to end: "+ Watchlist" on every card for whoever clicks, /watchlist's pages,
sorts and cards, removal, and a film marked watched leaving it. Real bot, emulator, PostgreSQL."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.runtime import Services
from tests.fakes.tmdb import FakeTMDB
from tests.helpers import answer, component, components, embed, is_ephemeral, label, visible_answer


def button(message: dict[str, Any], prefix: str) -> dict[str, Any]:
    return next(c for c in components(message) if str(c.get("custom_id", "")).startswith(prefix))


async def edited(emulator: Any, rec: Any, message: dict[str, Any], footer: str) -> None:
    """Wait until the list was edited to show `footer`."""
    await rec.wait_for(lambda: embed(emulator.message(message["id"]))["footer"]["text"] == footer, 10, footer)


def listed_titles(message: dict[str, Any]) -> list[str]:
    return [line.split("** ", 1)[1].rsplit(" · ", 1)[0] for line in embed(message)["description"].splitlines()]


async def test_the_cards_button_adds_for_whoever_clicks_once(
    bot: Any, emulator: Any, services: Services, tmdb: FakeTMDB
) -> None:
    film = tmdb.film(1004)
    card = await answer(emulator, "movie", {"title": "1004"})  # alice's card, public
    add = button(card, "marquee:watchlist:add:1004")
    assert add["label"] == "Watchlist"
    added = await visible_answer(await emulator.click(card, add["custom_id"], user=emulator.bob))
    assert is_ephemeral(added) and added["content"] == f"Added **{label(film)}** to your watchlist."
    assert button(added, "marquee:watchlist:remove:1004")["label"] == "Remove from watchlist"
    again = await visible_answer(await emulator.click(card, add["custom_id"], user=emulator.bob))
    assert again["content"] == f"**{label(film)}** is already on your watchlist."
    assert (await services.watchlist.page(int(emulator.bob["id"]))).total == 1
    assert (await services.watchlist.page(int(emulator.alice["id"]))).total == 0  # for whoever clicked
    removed = await visible_answer(await emulator.click(added, "marquee:watchlist:remove:1004", user=emulator.bob))
    assert removed["content"] == f"Removed **{label(film)}** from your watchlist."
    assert (await services.watchlist.page(int(emulator.bob["id"]))).total == 0


async def test_an_upcoming_film_can_be_listed_but_not_marked_watched(
    bot: Any, emulator: Any, services: Services, tmdb: FakeTMDB
) -> None:
    upcoming = tmdb.film(1007)
    upcoming["release_date"] = f"{date.today().year + 1}-05-10"
    card = await answer(emulator, "movie", {"title": str(upcoming["id"])})
    assert not any(str(c.get("custom_id", "")).startswith("marquee:watched:") for c in components(card))
    added = await visible_answer(await emulator.click(card, f"marquee:watchlist:add:{upcoming['id']}"))
    assert added["content"].startswith("Added **")


async def test_watchlist_pages_sorts_opens_and_forgets_a_watched_film(
    bot: Any, emulator: Any, services: Services, tmdb: FakeTMDB
) -> None:
    alice = int(emulator.alice["id"])
    films = [tmdb.film(1000 + n) for n in range(12)]
    for film in films:
        await services.watchlist.add(alice, film["id"], "US")
    msg = await answer(emulator, "watchlist")
    assert is_ephemeral(msg) and embed(msg)["title"] == "Your watchlist"
    assert listed_titles(msg) == [label(f) for f in reversed(films)][:10]  # newest first
    assert embed(msg)["footer"]["text"] == "Page 1 of 2 · 12 films · Date added"
    nxt = next(c for c in components(msg) if c.get("label") == "Next ▶")
    await edited(emulator, await emulator.click(msg, nxt["custom_id"]), msg, "Page 2 of 2 · 12 films · Date added")
    page_two = emulator.message(msg["id"])
    assert listed_titles(page_two) == [label(f) for f in reversed(films)][10:]

    sort = component(page_two, "marquee:watchlist:sort:")
    chosen = await emulator.select(page_two, sort["custom_id"], ["release"])
    await edited(emulator, chosen, msg, "Page 1 of 2 · 12 films · Release date, newest first")
    by_release = emulator.message(msg["id"])
    newest = sorted(films, key=lambda f: f["release_date"], reverse=True)
    assert listed_titles(by_release) == [label(f) for f in newest][:10]
    chosen = await emulator.select(by_release, sort["custom_id"], ["rating"])
    await edited(emulator, chosen, msg, "Page 1 of 2 · 12 films · Rating, highest first")
    by_rating = emulator.message(msg["id"])
    best = sorted(films, key=lambda f: (-f["vote_average"], -f["vote_count"]))
    assert listed_titles(by_rating)[0] == label(best[0])

    pick = component(by_rating, "marquee:watchlist:pick:")
    card = await visible_answer(await emulator.select(by_rating, pick["custom_id"], [str(best[0]["id"])]))
    assert is_ephemeral(card) and embed(card)["title"] == label(best[0])
    assert button(card, "marquee:watchlist:remove:")["label"] == "Remove from watchlist"
    await visible_answer(await emulator.click(card, button(card, "marquee:watched:")["custom_id"]))
    left = await services.watchlist.page(alice)
    assert left.total == 11 and best[0]["id"] not in [f.movie_id for f in left.films]  # watched: off the list

    # Someone else cannot use alice's list.
    next_now = next(c for c in components(by_rating) if c.get("label") == "Next ▶")
    intruder = await emulator.click(by_rating, next_now["custom_id"], user=emulator.bob)
    assert "belong to whoever ran the command" in (await visible_answer(intruder))["content"]
    empty = await answer(emulator, "watchlist", user=emulator.bob)
    assert "Nothing yet" in embed(empty)["description"]
