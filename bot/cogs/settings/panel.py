"""/settings' panel: each setting with the value in use, a "My services…" multi-select of the
region's services (25 a page, "More services ▶" past that), and the two toggles. Every change
saves at once and redraws the panel."""

from __future__ import annotations

import re
from typing import Any

import discord

from bot import embeds
from bot.components import MarqueeItem, reported, services_of
from bot.where import server_of
from services.errors import MarqueeError
from services.personal.settings import Preferences
from services.runtime import Services
from services.tmdb.reference import StreamingService

OWNER = r"(?P<owner>\d{1,20})"
PER_PAGE = 25  # Discord's most options in a select
TOGGLES = {"spoilers": "Spoiler mode", "alerts": "Alerts"}


def on_off(value: bool) -> str:
    return "On" if value else "Off"


async def region_label(services: Services, code: str) -> str:
    try:
        return next((r.label for r in await services.user_settings.regions() if r.code == code), code)
    except MarqueeError:  # TMDB away: the code says it
        return code


async def language_label(services: Services, tag: str) -> str:
    try:
        return next((t.label for t in await services.user_settings.translations() if t.tag == tag), tag)
    except MarqueeError:
        return tag


async def panel(
    interaction: discord.Interaction, owner_id: int, page: int = 1
) -> tuple[discord.Embed, discord.ui.View]:
    """The panel as it applies where it is opened: in a server with its own defaults, those
    are the ones in use for what the user has not chosen."""
    services = services_of(interaction)
    server = server_of(interaction)
    prefs = await services.user_settings.stored(owner_id, server.locale(services.user_settings.defaults))
    offered = await services.user_settings.services_in(prefs.region)
    pages = max(1, -(-len(offered) // PER_PAGE))
    page = min(max(1, page), pages)
    names = {s.id: s.name for s in offered}
    mine = [names[i] for i in prefs.services if i in names]

    def default(name: str, text: str) -> str:
        if name in prefs.chosen:
            return text
        return f"{text} (this server's default)" if getattr(server, name) else f"{text} (default)"

    embed = discord.Embed(title="Your settings", colour=embeds.BRAND)
    region = embeds.md(await region_label(services, prefs.region), 200)
    language = embeds.md(await language_label(services, prefs.language), 200)
    embed.add_field(name="Region", value=default("region", region))
    embed.add_field(name="Language", value=default("language", language))
    embed.add_field(
        name="My services",
        value=embeds.md(", ".join(mine), embeds.FIELD_VALUE_MAX) if mine else "None chosen: pick yours below.",
        inline=False,
    )
    embed.add_field(name="Spoiler mode", value=f"{on_off(prefs.spoilers)}: overviews and taglines hidden until clicked")
    embed.add_field(
        name="Availability alerts",
        value=f"{on_off(prefs.alerts)}: a DM when a watchlisted film starts streaming on your services or comes out",
    )
    embed.set_footer(text="Change region or language with /settings region: or language:")
    view = discord.ui.View(timeout=None)
    shown = offered[(page - 1) * PER_PAGE : page * PER_PAGE]
    if shown:
        view.add_item(ServicesSelect.for_page(shown, prefs, page, owner_id))
    if pages > 1:
        if page > 1:
            view.add_item(ServicesPageButton(page - 1, owner_id, "◀ Services"))
        if page < pages:
            view.add_item(ServicesPageButton(page + 1, owner_id, "More services ▶"))
    for name in TOGGLES:
        view.add_item(ToggleButton(name, owner_id, getattr(prefs, name)))
    return embeds.fit(embed), view


async def redraw(interaction: discord.Interaction, owner_id: int, page: int, saved: str | None = None) -> None:
    embed, view = await panel(interaction, owner_id, page)
    await interaction.edit_original_response(content=saved, embed=embed, view=view)


class ServicesSelect(
    MarqueeItem,
    discord.ui.DynamicItem[discord.ui.Select[Any]],
    template=rf"marquee:settings:services:(?P<page>\d{{1,3}}):{OWNER}",
):
    """One page of the region's services, the owner's pre-selected; what they pick replaces their
    choice among these (their services on other pages, or of another region, stay)."""

    def __init__(self, item: discord.ui.Select[Any], page: int, owner_id: int) -> None:
        super().__init__(item)
        self.page, self.owner_id = page, owner_id

    @classmethod
    def for_page(
        cls, shown: tuple[StreamingService, ...], prefs: Preferences, page: int, owner_id: int
    ) -> ServicesSelect:
        options = [
            discord.SelectOption(label=embeds.plain(s.name, 100), value=str(s.id), default=s.id in prefs.services)
            for s in shown
        ]
        select: discord.ui.Select[Any] = discord.ui.Select(
            custom_id=f"marquee:settings:services:{page}:{owner_id}",
            placeholder="My services…",
            min_values=0,
            max_values=len(options),
            options=options,
        )
        return cls(select, page, owner_id)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ServicesSelect:
        assert isinstance(item, discord.ui.Select)
        return cls(item, int(match["page"]), int(match["owner"]))

    @reported
    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        offered = [int(o.value) for o in self.item.options]  # checked: the values are among them
        chosen = [int(v) for v in self.item.values]
        owner = interaction.user.id  # checked
        prefs = await services_of(interaction).user_settings.choose_services(owner, offered, chosen)
        await redraw(interaction, owner, self.page, f"✅ Saved: {len(prefs.services)} services in all")


class ServicesPageButton(
    MarqueeItem,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=rf"marquee:settings:page:(?P<page>\d{{1,3}}):{OWNER}",
):
    def __init__(self, page: int, owner_id: int, label: str = "More services ▶") -> None:
        super().__init__(
            discord.ui.Button(
                label=label, style=discord.ButtonStyle.secondary, custom_id=f"marquee:settings:page:{page}:{owner_id}"
            )
        )
        self.page, self.owner_id = page, owner_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ServicesPageButton:
        return cls(int(match["page"]), int(match["owner"]))

    @reported
    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        await redraw(interaction, interaction.user.id, self.page)  # the owner: checked


class ToggleButton(
    MarqueeItem,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=rf"marquee:settings:toggle:(?P<name>spoilers|alerts):(?P<now>on|off):{OWNER}",
):
    """ "Spoiler mode: Off" / "Alerts: Off": a click turns it the other way from what the button
    showed (a click on an old panel sets what it promised, never flips a newer change back)."""

    def __init__(self, name: str, owner_id: int, on: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                label=f"{TOGGLES[name]}: {on_off(on)}",
                style=discord.ButtonStyle.success if on else discord.ButtonStyle.secondary,
                custom_id=f"marquee:settings:toggle:{name}:{on_off(on).lower()}:{owner_id}",
            )
        )
        self.name, self.on, self.owner_id = name, on, owner_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ToggleButton:
        return cls(match["name"], int(match["owner"]), match["now"] == "on")

    @reported
    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        wanted = not self.on
        owner = interaction.user.id  # checked
        settings = services_of(interaction).user_settings
        if self.name == "spoilers":
            await settings.save(owner, spoilers=wanted)
        else:
            await settings.save(owner, alerts=wanted)
        await redraw(interaction, owner, 1, f"✅ Saved: {TOGGLES[self.name]} {on_off(wanted).lower()}")


PANEL_ITEMS = (ServicesSelect, ServicesPageButton, ToggleButton)
