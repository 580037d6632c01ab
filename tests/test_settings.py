"""/settings end to end: options saved and confirmed, TMDB's own lists offered as you type, bad
values refused with nothing saved, the panel (services menu with pages, toggles), and every
answer following the user's region and language. Real bot, emulator, PostgreSQL, Redis."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from services.runtime import Services, open_services
from tests.fakes.tmdb import FakeTMDB
from tests.helpers import answer, component, components, embed, field, is_ephemeral, label, visible_answer


async def settings_row(services: Services, user: dict[str, Any]) -> dict[str, Any] | None:
    async with services.db.connection() as conn:
        row = await conn.fetchrow("SELECT * FROM user_settings WHERE discord_id = $1", int(user["id"]))
    return dict(row) if row else None


async def choose(services: Services, user: dict[str, Any], region: str, *service_ids: int) -> None:
    """The user's region and services as /settings would save them."""
    await services.user_settings.save(int(user["id"]), region=region)
    offered = [s.id for s in await services.user_settings.services_in(region)]
    await services.user_settings.choose_services(int(user["id"]), offered, list(service_ids))


async def test_options_are_saved_and_the_card_follows_the_users_region(
    bot: Any, emulator: Any, services: Services, tmdb: FakeTMDB
) -> None:
    saved = await answer(emulator, "settings", {"region": "GB", "spoilers": True})
    assert is_ephemeral(saved)
    assert saved["content"] == "✅ Saved: Region: United Kingdom (GB); Spoiler mode: On"
    film = tmdb.film(1004)
    released = date.fromisoformat(film["release_date"])
    mine = await answer(emulator, "movie", {"title": "1004"})
    assert "**Stream:** ITVX" in field(mine, "Where to watch (GB)")
    assert field(mine, "Certification") == "15"
    assert field(mine, "Released") == f"{released + timedelta(days=30):%-d %B %Y}"  # in cinemas there a month later
    assert embed(mine)["description"] == f"||{film['overview']}||"  # spoiler mode (1004 has no tagline)
    tagged = await answer(emulator, "movie", {"title": "1005"})
    assert embed(tagged)["description"] == f"||*Tagline 5*||\n\n||{tmdb.film(1005)['overview']}||"
    bobs = await answer(emulator, "movie", {"title": "1004"}, user=emulator.bob)  # defaults for everyone else
    assert "**Rent:** RentAll" in field(bobs, "Where to watch (US)") and field(bobs, "Certification") == "PG-13"
    assert embed(bobs)["description"] == film["overview"]


async def test_the_language_translates_answers_but_not_the_catalogue(
    bot: Any, emulator: Any, services: Services, tmdb: FakeTMDB
) -> None:
    saved = await answer(emulator, "settings", {"language": "French (France)"})
    assert saved["content"] == "✅ Saved: Language: French (France) · fr-FR"
    card = await answer(emulator, "movie", {"title": "1003"})
    assert embed(card)["title"] == f"Le {label(tmdb.film(1003))}"
    browse = await answer(emulator, "browse", {"list": "popular"})
    assert embed(browse)["description"].splitlines()[0].startswith("**1.** Le ")
    english = await answer(emulator, "browse", {"list": "popular"}, user=emulator.bob)
    assert "Le " not in embed(english)["description"]
    async with services.db.connection() as conn:  # the catalogue keeps the configured language
        assert await conn.fetchval("SELECT title FROM movies WHERE id = 1003") == tmdb.film(1003)["title"]


async def test_regions_and_languages_are_offered_from_tmdbs_lists(bot: Any, emulator: Any) -> None:
    regions = await emulator.autocomplete("settings", "region", "king")
    assert regions == [{"name": "United Kingdom (GB)", "value": "GB"}]
    assert (await emulator.autocomplete("settings", "region", "fr"))[0]["value"] == "FR"  # a code first
    languages = await emulator.autocomplete("settings", "language", "fren")
    assert [c["value"] for c in languages] == ["fr-FR", "fr-CA"]
    assert languages[1]["name"] == "French (Canada) · fr-CA"


async def test_a_region_or_language_tmdb_does_not_list_is_refused_and_nothing_saved(
    bot: Any, emulator: Any, services: Services
) -> None:
    narnia = await answer(emulator, "settings", {"region": "Narnia", "alerts": True})
    assert is_ephemeral(narnia)
    assert narnia["content"] == "“Narnia” isn't a region TMDB has streaming data for; pick one from the list."
    xq = await answer(emulator, "settings", {"region": "XQ"})
    assert xq["content"].startswith("“XQ” isn't a region")
    zz = await answer(emulator, "settings", {"language": "zz-QQ"})
    assert zz["content"] == "“zz-QQ” isn't a language TMDB translates into; pick one from the list."
    assert await settings_row(services, emulator.alice) is None  # not even the alerts given beside it


async def test_the_panel_pages_services_saves_at_once_and_keeps_them_across_regions(
    bot: Any, emulator: Any, services: Services
) -> None:
    panel = await answer(emulator, "settings")
    assert is_ephemeral(panel)
    assert field(panel, "Region") == "United States of America (US) (default)"
    assert field(panel, "My services") == "None chosen: pick yours below."
    menu = component(panel, "marquee:settings:services:1:")
    assert [o["label"] for o in menu["options"][:3]] == ["StreamCo", "Netflix", "Hulu"]  # TMDB's order for the US
    assert len(menu["options"]) == 25 and menu["max_values"] == 25
    rec = await emulator.select(panel, menu["custom_id"], ["1899", "8"])
    await rec.wait_for(lambda: "Saved" in (emulator.message(panel["id"]).get("content") or ""), 10, "saved")
    panel = emulator.message(panel["id"])
    assert field(panel, "My services") == "StreamCo, Netflix"
    more = next(c for c in components(panel) if c.get("label") == "More services ▶")
    rec = await emulator.click(panel, more["custom_id"])
    await rec.wait_for(lambda: "services:2:" in str(emulator.message(panel["id"])["components"]), 10, "page 2")
    page_two = component(emulator.message(panel["id"]), "marquee:settings:services:2:")
    assert [o["label"] for o in page_two["options"]] == [f"Channel {n:02d}" for n in range(22, 30)]
    rec = await emulator.select(panel, page_two["custom_id"], ["5029"])
    await rec.wait_for(lambda: "Channel 29" in field(emulator.message(panel["id"]), "My services"), 10, "saved")
    stored = await settings_row(services, emulator.alice)
    assert stored is not None and sorted(stored["services"]) == [8, 1899, 5029]  # page 1's choice kept

    toggle = next(c for c in components(panel) if c.get("label") == "Spoiler mode: Off")
    rec = await emulator.click(panel, toggle["custom_id"])
    await rec.wait_for(
        lambda: any(c.get("label") == "Spoiler mode: On" for c in components(emulator.message(panel["id"]))),
        10,
        "the toggle",
    )
    assert emulator.message(panel["id"])["content"] == "✅ Saved: Spoiler mode on"

    await answer(emulator, "settings", {"region": "United Kingdom"})
    uk = await answer(emulator, "settings")
    assert field(uk, "Region") == "United Kingdom (GB)"
    uk_menu = component(uk, "marquee:settings:services:1:")
    assert [(o["label"], o.get("default", False)) for o in uk_menu["options"]] == [
        ("ITVX", False),
        ("Netflix", True),  # chosen in the US: the same service by id
        ("Sky Go", False),
    ]
    assert field(uk, "My services") == "Netflix"


async def test_settings_survive_a_restart(bot: Any, emulator: Any, services: Services, settings: Any) -> None:
    await answer(emulator, "settings", {"region": "FR", "alerts": True})
    async with open_services(settings) as restarted:
        prefs = await restarted.user_settings.get(int(emulator.alice["id"]))
    assert (prefs.region, prefs.alerts) == ("FR", True)


async def test_the_database_away_settings_say_try_again_and_cards_use_the_defaults(
    cut: dict[str, Any], emulator: Any
) -> None:
    await answer(emulator, "settings", {"region": "GB"})
    cut["pg"].sever()
    for options in ({"region": "FR"}, {}):
        refused = await answer(emulator, "settings", options)
        assert is_ephemeral(refused) and "database is unreachable" in refused["content"]
    card = await answer(emulator, "movie", {"title": "1004"})
    assert field(card, "Where to watch (US)")  # the defaults while the database is away
    listed = await answer(emulator, "watchlist")
    assert is_ephemeral(listed) and "database is unreachable" in listed["content"]
    cut["pg"].restore()
    card = await answer(emulator, "movie", {"title": "1004"})
    assert field(card, "Where to watch (GB)")


async def test_your_services_come_first_with_a_tick_or_where_to_rent_instead(
    bot: Any, emulator: Any, services: Services, tmdb: FakeTMDB
) -> None:
    tmdb.streaming[1004] = {"GB": [29, 41]}  # Sky Go and ITVX, in that order on TMDB
    await choose(services, emulator.alice, "GB", 41)
    card = await answer(emulator, "movie", {"title": "1004"})
    assert field(card, "Where to watch (GB)").startswith("**Stream:** ✅ ITVX, Sky Go")
    elsewhere = await answer(emulator, "movie", {"title": "1005"})  # odd: ITVX does not have it
    assert field(elsewhere, "Where to watch (GB)").startswith("Not on your services — rent or buy at: Sky Store")
    visible = await visible_answer(await emulator.invoke("movie", {"title": "1005"}, user=emulator.bob))
    assert "Not on your services" not in field(visible, "Where to watch (US)")  # bob chose none


async def test_redis_down_settings_and_the_alerts_sweep_still_work(
    cut: dict[str, Any], emulator: Any, tmdb: FakeTMDB
) -> None:
    services: Services = cut["services"]
    cut["redis"].sever()
    saved = await answer(emulator, "settings", {"region": "GB", "alerts": True})
    assert saved["content"] == "✅ Saved: Region: United Kingdom (GB); Availability alerts: On"
    panel = await answer(emulator, "settings")
    assert field(panel, "Region") == "United Kingdom (GB)"
    await services.watchlist.add(int(emulator.alice["id"]), 1001, "GB")
    report = await services.alerts.sweep()  # notices written; the worker's sweep queues them later
    assert (report.checked, report.failed) == (1, [])


async def test_tmdb_down_or_rate_limited_saves_nothing(
    bot: Any, emulator: Any, services: Services, tmdb: FakeTMDB
) -> None:
    tmdb.fail(429, times=10, retry_after="60")
    limited = await answer(emulator, "settings", {"region": "GB", "spoilers": True})
    assert is_ephemeral(limited) and "TMDB" in limited["content"]
    assert await settings_row(services, emulator.alice) is None
