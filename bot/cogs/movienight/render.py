"""How a movie night looks: its message (who invited whom, when it closes), the numbered
candidates with their live tally, the vote buttons, and the winner's card."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot import embeds
from bot.card import card_view, film_card
from bot.cogs.movienight.buttons import NightButton
from services.movienight.models import Candidate, Closing, Night, Tally
from services.personal.settings import Preferences
from services.tmdb.models import ImageConfig, MovieDetails

LINE_MAX = 700  # one candidate's lines, so five and the notes fit an embed's description


def names(night: Night, people: Sequence[int]) -> str:
    return ", ".join(embeds.md(night.name(p), 80) for p in people)


def heading(night: Night) -> str:
    invited = " ".join(f"<@{m}>" for m in night.members)
    return f"🍿 Movie night by **{embeds.md(night.name(night.host_id), 80)}** with {invited}"


def open_content(night: Night) -> str:
    return f"{heading(night)}: vote below, closes <t:{int(night.closes_at.timestamp())}:R>"


def closed_content(closing: Closing) -> str:
    if closing.winner is None:
        return f"{heading(closing.night)}: closed with no votes, so no winner."
    return f"{heading(closing.night)}: closed. **{embeds.md(closing.winner.label, 200)}** won."


def votes_text(count: int) -> str:
    return f"{count} vote{'s' * (count != 1)}"


def candidate_lines(night: Night, number: int, candidate: Candidate, votes: int, winner: bool) -> str:
    mark = "🏆 " if winner else ""
    lines = [f"{mark}**{number}.** {embeds.md(candidate.label, 200)} — {votes_text(votes)}"]
    if candidate.reason:
        lines.append(embeds.md(candidate.reason, 300))
    if candidate.suits:
        lines.append(f"Suits: {names(night, candidate.suits)}")
    if candidate.streams:
        lines.append("Streams on " + "; ".join(f"{embeds.md(s, 60)} ({names(night, w)})" for s, w in candidate.streams))
    return embeds.clamp("\n".join(lines), LINE_MAX)


def night_embed(night: Night, tally: Tally, *, closed: bool = False) -> discord.Embed:
    winner = tally.winner if closed else None
    blocks = [
        candidate_lines(night, n, c, votes, winner == n)
        for n, (c, votes) in enumerate(zip(night.candidates, tally.votes, strict=True), 1)
    ]
    if night.neutral:
        blocks.append(f"Not enough history yet, counted as neutral: {names(night, night.neutral)}")
    title = "Movie night: the vote is closed" if closed else "Movie night: what do we watch?"
    embed = discord.Embed(title=title, description="\n\n".join(blocks), colour=embeds.BRAND)
    who = "Invited members vote" if night.members_only else "Anyone here can vote"
    footer = f"{who}: one vote each, changeable until it closes · Picked by AI from everyone's taste · Data: TMDB"
    embed.set_footer(text=f"{votes_text(tally.total)} · Closed" if closed else footer)
    return embeds.fit(embed)


def night_view(night: Night, *, closed: bool = False) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for number in range(1, len(night.candidates) + 1):
        view.add_item(NightButton(night.id, str(number), disabled=closed))
    view.add_item(NightButton(night.id, "close", disabled=closed))
    return view


def closed_view(night: Night) -> discord.ui.View:
    return night_view(night, closed=True)


def winner_line(closing: Closing) -> str:
    """ "🏆 Tonight's film: …" with its votes, and whose services stream it."""
    night, tally, winner = closing.night, closing.tally, closing.winner
    assert winner is not None and tally.winner is not None
    votes = tally.votes[tally.winner - 1]
    content = f"🏆 Tonight's film: **{embeds.md(winner.label, 200)}** with {votes_text(votes)} of {tally.total}."
    if closing.streams:
        streams = "; ".join(f"{embeds.md(s, 60)} ({names(night, w)})" for s, w in closing.streams)
        content += f"\nStreams on {streams}."
    return content


def winner_card(closing: Closing, film: MovieDetails, images: ImageConfig) -> tuple[discord.Embed, discord.ui.View]:
    """The winner's card as the host's region sees it, with + Watchlist for anyone."""
    night = closing.night
    return film_card(film, images, Preferences(night.region, night.language)), card_view(film)
