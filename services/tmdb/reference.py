"""TMDB's reference lists for personal settings: the countries it has streaming data for, the
streaming services of a country, and its primary translations; and `Locale`, the region and
language a user's answers are made in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from services.text import one_line
from services.tmdb.models import NAME_MAX, BadTMDBData, each

REGION_CODE = re.compile(r"[A-Z]{2}")
LANGUAGE_TAG = re.compile(r"[a-z]{2,3}-[A-Z]{2}")


@dataclass(frozen=True, slots=True)
class Locale:
    """Where and in what language a user sees TMDB: ISO 3166-1 region, IETF language tag."""

    region: str
    language: str


@dataclass(frozen=True, slots=True)
class WatchRegion:
    code: str  # ISO 3166-1
    name: str  # in English

    @property
    def label(self) -> str:
        return f"{self.name} ({self.code})"

    @classmethod
    def from_tmdb(cls, data: dict[str, Any]) -> WatchRegion:
        code = data.get("iso_3166_1")
        if not isinstance(code, str) or not REGION_CODE.fullmatch(code):
            raise BadTMDBData("a region without an ISO 3166-1 code")
        return cls(code, one_line(data.get("english_name"), NAME_MAX) or code)


@dataclass(frozen=True, slots=True)
class StreamingService:
    """A provider TMDB lists for a region, with its place in that region's display order."""

    id: int
    name: str
    priority: int

    @classmethod
    def from_tmdb(cls, data: dict[str, Any]) -> StreamingService:
        provider_id = data.get("provider_id")
        name = one_line(data.get("provider_name"), NAME_MAX)
        if isinstance(provider_id, bool) or not isinstance(provider_id, int) or not 0 < provider_id < 2**31 or not name:
            raise BadTMDBData("a provider without an id or a name")
        priority = data.get("display_priority")
        return cls(provider_id, name, priority if isinstance(priority, int) and not isinstance(priority, bool) else 999)


@dataclass(frozen=True, slots=True)
class Translation:
    tag: str  # IETF, as TMDB's `language` parameter takes it: fr-FR
    name: str  # French (France)

    @property
    def label(self) -> str:
        return f"{self.name} · {self.tag}"


def watch_regions(data: Any) -> tuple[WatchRegion, ...]:
    results = data.get("results") if isinstance(data, dict) else None
    regions = {r.code: r for r in each(results, WatchRegion.from_tmdb, "region")}
    return tuple(sorted(regions.values(), key=lambda r: r.name))


def country_names(data: Any) -> dict[str, str]:
    """ISO 3166-1 code → English name, from /configuration/countries."""
    return {c.code: c.name for c in each(data, WatchRegion.from_tmdb, "country")}


def streaming_services(data: Any) -> tuple[StreamingService, ...]:
    """A region's services in TMDB's display order for it, each once."""
    results = data.get("results") if isinstance(data, dict) else None
    found = {s.id: s for s in each(results, StreamingService.from_tmdb, "provider")}
    return tuple(sorted(found.values(), key=lambda s: (s.priority, s.name)))


def language_names(data: Any) -> dict[str, str]:
    """ISO 639-1 code → English name, from /configuration/languages."""
    names: dict[str, str] = {}
    for item in data if isinstance(data, list) else []:
        code = item.get("iso_639_1") if isinstance(item, dict) else None
        name = one_line(item.get("english_name"), 60) if isinstance(item, dict) else ""
        if isinstance(code, str) and name:
            names[code] = name
    return names


def translation_tags(data: Any) -> tuple[str, ...]:
    """The tags of /configuration/primary_translations that have TMDB's shape (fr-FR)."""
    return tuple(
        t for t in (data if isinstance(data, list) else []) if isinstance(t, str) and LANGUAGE_TAG.fullmatch(t)
    )
