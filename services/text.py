"""Text from outside (users, TMDB, later the model): made safe to store and to show."""

from __future__ import annotations

import re
import unicodedata

# C0/C1 control characters (NUL among them) except tab and newline, the bidi overrides that can
# make shown text read differently from what it is, and invisible spaces (zero width, BOM), so a
# text of only those is empty.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u202a-\u202e\u2060\u2066-\u2069\ufeff]")
# What Discord's markdown gives a meaning to anywhere in a line (links need "[", mentions and
# timestamps "<", pings "@"), and what it reads only at the start of a line (headings, lists,
# quotes); a backslash makes each one literal.
_MARKDOWN = re.compile(r"([\\*_`~|\[\]<>@])")
_LINE_START = re.compile(r"^(\s*)([#-])", re.MULTILINE)


def clean_text(value: object, limit: int | None = None) -> str:
    """`value` as text without control characters (NUL breaks PostgreSQL), at most `limit` chars."""
    if not isinstance(value, str):
        return ""
    text = _CONTROL.sub("", value)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def one_line(value: object, limit: int | None = None) -> str:
    """Like clean_text, with every run of whitespace (newlines too) made one space."""
    return clean_text(" ".join(clean_text(value).split()), limit)


def escape_markdown(text: str) -> str:
    """Text shown as itself: no links, mentions, headings or formatting can be planted in it."""
    return _LINE_START.sub(r"\1\\\2", _MARKDOWN.sub(r"\\\1", text))


def quote(text: object, limit: int = 80) -> str:
    """A short, escaped, one-line excerpt of outside text for a message."""
    return escape_markdown(one_line(str(text), limit))


def code_span(text: object, limit: int = 60) -> str:
    """Outside text (a file name) shown as inline code: nothing in it is formatting, a link or a
    mention, and it cannot close the span (its backticks are replaced)."""
    return "`" + one_line(str(text), limit).replace("`", "ʹ") + "`"


def fold(text: str) -> str:
    """Case- and accent-insensitive form of a title, for comparing titles."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w\s]", " ", stripped).split())


def same_question(text: str) -> str:
    """The form of a question that asking it again must find: Unicode-normalised (NFKC),
    case-folded, one space between words, without punctuation around it ("Heist films?" and
    "heist films" are one question). Unlike `fold`, accents, scripts and emoji stay: "phim về má"
    (about mothers) and "phim về ma" (about ghosts) are different questions, and so are 🤣 and 💔."""
    words = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    start, end = 0, len(words)
    while start < end and _is_surrounding(words[start]):
        start += 1
    while end > start and _is_surrounding(words[end - 1]):
        end -= 1
    return words[start:end] or words  # a question of only punctuation stays itself


def _is_surrounding(char: str) -> bool:
    return char.isspace() or unicodedata.category(char).startswith("P")
