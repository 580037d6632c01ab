"""What the model must answer, as pydantic models, and their JSON Schemas in the strict form
Structured Outputs accepts (every property required, no extra properties, no defaults).

The model's output is untrusted: it is validated here, text is cleaned and clamped, and only
what validates is used.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from services.text import one_line

MAX_SUGGESTIONS = 8
REASON_MAX = 200
TITLE_MAX = 200


def _clean(limit: int) -> BeforeValidator:
    return BeforeValidator(lambda value: one_line(value, limit) if isinstance(value, str) else value)


def _plausible_year(value: Any) -> Any:
    """A year the model got wrong is no year: matching then goes by the title alone."""
    try:
        year = int(value)
    except (TypeError, ValueError):
        return None
    return year if 1870 <= year <= 2100 else None


Text = Annotated[str, _clean(REASON_MAX)]
Title = Annotated[str, _clean(TITLE_MAX)]
Phrase = Annotated[str, _clean(80)]


class Suggestion(BaseModel):
    model_config = ConfigDict(extra="ignore")

    title: Title = Field(description="The film's title as released in English-speaking countries")
    year: Annotated[int | None, BeforeValidator(_plausible_year)] = Field(
        description="Year of first release, or null when unsure"
    )
    reason: Text = Field(description="One short sentence: why this film fits the request")


class Suggestions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    suggestions: list[Suggestion] = Field(description=f"Up to {MAX_SUGGESTIONS} films, best first")


class TasteProfile(BaseModel):
    model_config = ConfigDict(extra="ignore")

    summary: Text = Field(description="Two sentences describing this viewer's taste, addressed to them")
    genres: list[Phrase] = Field(description="Genres they like")
    moods: list[Phrase] = Field(description="Moods and tones they enjoy")
    themes: list[Phrase] = Field(description="Themes and subjects that recur")
    eras: list[Phrase] = Field(description="Decades or periods they favour")
    avoid: list[Phrase] = Field(description="What they seem to avoid or dislike")

    def trimmed(self) -> TasteProfile:
        """At most 8 entries per list: the profile is shown and sent back to the model."""
        return self.model_copy(
            update={name: getattr(self, name)[:8] for name in ("genres", "moods", "themes", "eras", "avoid")}
        )


def strict_schema(model: type[BaseModel]) -> dict[str, Any]:
    """`model`'s JSON Schema as strict Structured Outputs needs it."""
    return _strict(model.model_json_schema())


def _strict(node: Any) -> Any:
    if isinstance(node, list):
        return [_strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _strict(value) for key, value in node.items() if key not in ("title", "default")}
    if out.get("type") == "object" and "properties" in node:
        out["properties"] = {name: _strict(prop) for name, prop in node["properties"].items()}
        out["required"] = list(node["properties"])
        out["additionalProperties"] = False
    return out
