"""A movie night as stored and shown: its candidates, its votes, its winner."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

MAX_CANDIDATES = 5


@dataclass(frozen=True)
class Candidate:
    tmdb_id: int
    title: str
    year: int | None
    reason: str
    suits: tuple[int, ...] = ()  # discord ids of the participants the model says it suits
    streams: tuple[tuple[str, tuple[int, ...]], ...] = ()  # (service, whose) in the host's region

    @property
    def label(self) -> str:
        return f"{self.title} ({self.year})" if self.year else self.title

    def stored(self) -> dict[str, object]:
        return {
            "media_type": "movie",
            "tmdb_id": self.tmdb_id,
            "title": self.title,
            "year": self.year,
            "reason": self.reason,
            "suits": list(self.suits),
            "streams": [[name, list(whose)] for name, whose in self.streams],
        }

    @classmethod
    def from_stored(cls, data: dict[str, object]) -> Candidate:
        streams = data.get("streams") or []
        suits = data.get("suits") or []
        assert isinstance(streams, list) and isinstance(suits, list)
        year = data.get("year")
        return cls(
            int(str(data["tmdb_id"])),
            str(data["title"]),
            int(str(year)) if year is not None else None,
            str(data.get("reason") or ""),
            tuple(int(u) for u in suits),
            tuple((str(name), tuple(int(u) for u in whose)) for name, whose in streams),
        )


@dataclass(frozen=True)
class Night:
    id: int
    guild_id: int
    channel_id: int
    message_id: int | None
    host_id: int
    members: tuple[int, ...]
    members_only: bool
    region: str
    language: str
    candidates: tuple[Candidate, ...]
    neutral: tuple[int, ...]
    names: dict[int, str]
    status: str  # open | closed | gone
    closes_at: datetime
    winner: int | None = None  # 1-based

    @property
    def participants(self) -> tuple[int, ...]:
        return (self.host_id, *self.members)

    def name(self, discord_id: int) -> str:
        return self.names.get(discord_id, "someone")

    def may_vote(self, discord_id: int) -> bool:
        return not self.members_only or discord_id in self.participants


@dataclass(frozen=True)
class Tally:
    votes: tuple[int, ...]  # per candidate, in order

    @property
    def total(self) -> int:
        return sum(self.votes)

    @property
    def winner(self) -> int | None:
        """1-based; a tie goes to the candidate listed first; None without votes."""
        if not self.total:
            return None
        return self.votes.index(max(self.votes)) + 1


@dataclass(frozen=True)
class Vote:
    candidate: Candidate
    changed: bool  # False: it was already their vote


@dataclass(frozen=True)
class Plan:
    """What the model and TMDB made of a group, before the night is stored."""

    candidates: tuple[Candidate, ...]
    neutral: tuple[int, ...]


@dataclass(frozen=True)
class Closing:
    """A night being closed, for whoever shows it (the bot): the final tally, the winner and,
    for its card, which of the participants' services stream it in the host's region."""

    night: Night
    tally: Tally
    winner: Candidate | None
    streams: tuple[tuple[str, tuple[int, ...]], ...] = field(default=())
