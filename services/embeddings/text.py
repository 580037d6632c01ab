"""The text a film is embedded from, and its hash (the same text is never embedded twice)."""

from __future__ import annotations

import hashlib

from services.tmdb.models import MovieDetails

TOP_CAST = 5


def film_text(film: MovieDetails) -> str:
    """Title and year, genres, director, top cast, keywords, tagline and overview: what people
    mean when they say a film is "like" another, in a stable order."""
    summary = film.summary
    lines = [summary.label]
    if film.genres:
        lines.append("Genres: " + ", ".join(film.genres))
    if film.directors:
        lines.append("Directed by " + ", ".join(film.directors[:3]))
    if film.cast:
        lines.append("Starring " + ", ".join(c.name for c in film.cast[:TOP_CAST]))
    if film.keywords:
        lines.append("Keywords: " + ", ".join(film.keywords))
    if film.tagline:
        lines.append(film.tagline)
    if summary.overview:
        lines.append(summary.overview)
    return "\n".join(lines)


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
