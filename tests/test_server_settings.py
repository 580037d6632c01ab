"""/server-settings and Marquee used anywhere (a DM with the bot, a group DM, a server without
the bot): the real bot against the emulator with User Install on, PostgreSQL and Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from services.runtime import Services
from tests.fakes.discord_emu import PERM_MANAGE_GUILD, DiscordEmulator
from tests.fakes.openai import FakeOpenAI
from tests.helpers import COMMAND_NAMES, answer, embed, field, is_ephemeral

AI_OFF = "AI commands are turned off in this server by its admins."


@pytest.fixture
async def emulator() -> AsyncIterator[Any]:
    async with DiscordEmulator(user_install=True) as emu:
        yield emu


async def server_settings(emulator: Any, **options: Any) -> dict[str, Any]:
    msg = await answer(emulator, "server-settings", options, user=emulator.owner)
    assert is_ephemeral(msg)
    return msg


def settings_field(msg: dict[str, Any], name: str) -> str:
    return next(f["value"] for f in embed(msg)["fields"] if f["name"] == name)


async def stored(services: Services) -> list[dict[str, Any]]:
    async with services.db.connection() as conn:
        return [dict(r) for r in await conn.fetch("SELECT region, language, ai_commands, answers FROM server_settings")]


async def test_declarations(bot: Any, emulator: Any) -> None:
    settings = emulator.command("server-settings")
    assert settings["default_member_permissions"] == str(PERM_MANAGE_GUILD)
    assert settings["contexts"] == [0] and settings["integration_types"] == [0]
    assert [o["name"] for o in settings["options"]] == ["region", "language", "ai_commands", "answers"]
    assert [c["value"] for c in settings["options"][3]["choices"]] == ["public", "ephemeral"]
    night = emulator.command("movienight")
    assert night["contexts"] == [0] and night["integration_types"] == [0]
    options = {o["name"]: o for o in night["options"]}
    assert options["member1"]["type"] == 6 and options["member1"]["required"]
    assert all(options[f"member{n}"]["type"] == 6 and not options[f"member{n}"].get("required") for n in range(2, 6))
    assert (options["duration"]["min_value"], options["duration"]["max_value"]) == (1, 1440)
    assert options["members_only"]["type"] == 5
    assert {"genre", "decade", "max_runtime", "language", "only_my_services"} <= set(options)
    # Everything else: for servers and users alike, in servers, DMs and group DMs.
    for name in COMMAND_NAMES - {"server-settings", "movienight"}:
        command = emulator.command(name)
        assert sorted(command["contexts"]) == [0, 1, 2], name
        assert sorted(command["integration_types"]) == [0, 1], name


async def test_only_managers_change_the_servers_settings(bot: Any, emulator: Any, services: Services) -> None:
    assert not emulator.can_use("server-settings", emulator.alice)
    with pytest.raises(PermissionError):
        await emulator.invoke("server-settings", {"answers": "ephemeral"})
    # The server lets alice see it (an override); the bot still checks her permission.
    emulator.allow_command("server-settings", emulator.alice)
    refused = await answer(emulator, "server-settings", {"answers": "ephemeral"})
    assert is_ephemeral(refused) and refused["content"].startswith("You need the Manage Server permission")
    assert await stored(services) == []
    # A member given Manage Server by a role may.
    manager = emulator.add_member("mo", roles=[emulator.add_role("Managers", PERM_MANAGE_GUILD)])
    saved = await answer(emulator, "server-settings", {"ai_commands": False}, user=manager)
    assert embed(saved)["title"] == "✅ Saved: this server's settings"
    assert settings_field(saved, "AI commands") == "Off"
    # No option: the settings as they are.
    current = await server_settings(emulator)
    assert embed(current)["title"] == "This server's settings" and settings_field(current, "AI commands") == "Off"


async def test_the_servers_region_for_members_without_their_own(bot: Any, emulator: Any, services: Services) -> None:
    refused = await server_settings(emulator, region="Atlantis")
    assert "isn't a region" in refused["content"]
    assert await stored(services) == []
    saved = await server_settings(emulator, region="GB")
    assert settings_field(saved, "Region") == "United Kingdom (GB)"
    assert "(the bot's default)" in settings_field(saved, "Language")
    card = await answer(emulator, "movie", {"title": "1004"})
    assert "**Stream:** ITVX" in field(card, "Where to watch (GB)")
    panel = await answer(emulator, "settings")
    assert field(panel, "Region") == "United Kingdom (GB) (this server's default)"
    # A member's own setting wins.
    await answer(emulator, "settings", {"region": "US"}, user=emulator.bob)
    bobs = await answer(emulator, "movie", {"title": "1004"}, user=emulator.bob)
    assert "Where to watch (US)" in [f["name"] for f in embed(bobs)["fields"]]
    # In a DM the server's default does not apply.
    dm = await answer(emulator, "movie", {"title": "1004"}, where="dm")
    assert "Where to watch (US)" in [f["name"] for f in embed(dm)["fields"]]


async def test_ai_off_in_one_server_only(bot: Any, emulator: Any, services: Services, llm: FakeOpenAI) -> None:
    await services.watch.mark_id(int(emulator.alice["id"]), 1001)
    await services.watch.mark_id(int(emulator.alice["id"]), 1002)
    await server_settings(emulator, ai_commands=False)
    for name, options in (
        ("ask", {"query": "a heist"}),
        ("foryou", {}),
        ("semantic", {"query": "obsession"}),
        ("movienight", {"member1": emulator.bob}),
    ):
        msg = await answer(emulator, name, options)
        assert is_ephemeral(msg) and msg["content"] == AI_OFF, (name, msg)
    assert llm.calls == [] and llm.embeddings.calls == []
    similar = await answer(emulator, "similar", {"title": "1004"})
    assert embed(similar)["footer"]["text"].startswith("TMDB's recommendations: AI commands are off in this server")
    assert llm.embeddings.calls == []
    help_text = await answer(emulator, "help")
    assert "turned AI commands off here" in embed(help_text)["description"]

    # A DM with the bot and a server without it are not that server.
    dm = await answer(emulator, "ask", {"query": "a heist"}, where="dm")
    assert embed(dm)["title"] == "Films for “a heist”"
    elsewhere = await answer(emulator, "ask", {"query": "a heist"}, where="foreign_guild")
    assert embed(elsewhere)["title"] == "Films for “a heist”" and is_ephemeral(elsewhere)
    assert len(llm.completions("suggestions")) >= 1

    await server_settings(emulator, ai_commands=True)
    back = await answer(emulator, "ask", {"query": "a heist"})
    assert not is_ephemeral(back) and embed(back)["title"] == "Films for “a heist”"


async def test_answers_ephemeral_then_public_again(bot: Any, emulator: Any) -> None:
    saved = await server_settings(emulator, answers="ephemeral")
    assert settings_field(saved, "Answers").startswith("Ephemeral")
    asked = (("search", {"query": "orbit"}), ("movie", {"title": "1004"}), ("browse", {"list": "popular"}))
    for name, options in asked:
        msg = await answer(emulator, name, options)
        assert is_ephemeral(msg) and msg["embeds"], name
    count = len(emulator.channel_messages())
    await server_settings(emulator, answers="public")
    msg = await answer(emulator, "search", {"query": "orbit"})
    assert not is_ephemeral(msg) and len(emulator.channel_messages()) == count + 1


async def test_where_marquee_is_not_installed_answers_are_ephemeral(bot: Any, emulator: Any) -> None:
    group = emulator.group_dm_channel(emulator.alice)
    foreign = emulator.foreign_guild_channel()
    for where in ("private_channel", "foreign_guild"):
        for name, options in (("search", {"query": "orbit"}), ("movie", {"title": "1004"}), ("help", {})):
            msg = await answer(emulator, name, options, where=where)
            assert is_ephemeral(msg) and msg["embeds"], (where, name)
    assert emulator.channel_messages(group) == [] and emulator.channel_messages(foreign) == []
    assert not [r for r in emulator.requests if r.status == 403]  # nothing tried the channels by REST
    # A DM with the bot is the bot's own channel: answers are as usual.
    dm = await answer(emulator, "search", {"query": "orbit"}, where="dm")
    assert not is_ephemeral(dm) and embed(dm)["title"] == "Films matching “orbit”"
    for where in ("dm", "private_channel", "foreign_guild"):
        with pytest.raises(ValueError):
            await emulator.invoke("movienight", {"member1": emulator.bob}, where=where)
        with pytest.raises(ValueError):
            await emulator.invoke("server-settings", {}, where=where)
