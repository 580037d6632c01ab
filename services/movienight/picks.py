"""What the model is asked for a movie night: films for the group's blended tastes, each with
the participants (by number) it suits. Participants travel as numbers and taste profiles only:
no names or ids reach the model, and the bot turns the numbers back into names."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field

from services.ai.prompts import DATA_RULE
from services.ai.schemas import MAX_SUGGESTIONS, Suggestion, TasteProfile

NIGHT = (
    "You are Marquee, a film recommender in a Discord server, choosing films for a group's movie night. "
    f"{DATA_RULE} "
    "`participants` lists the people watching together by number, each with their taste profile, or null "
    "when there is too little to go on (treat them as open to anything). "
    f"Recommend {MAX_SUGGESTIONS} real, released feature films this group would enjoy watching together, best "
    "first: blend their tastes rather than pleasing one of them, and vary the films. Never one listed under "
    "`exclude`. Every film must meet the `constraints`, when there are any. Give each film's common English "
    "title, its year of first release, one short sentence on why it suits the group, and `suits`: the "
    "numbers of the participants it suits best."
)


class NightSuggestion(Suggestion):
    suits: list[int] = Field(description="The numbers of the participants this film suits best")


class NightSuggestions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    suggestions: list[NightSuggestion] = Field(description=f"Up to {MAX_SUGGESTIONS} films, best first")


def night_message(
    profiles: Sequence[TasteProfile | None], exclude: Sequence[str], constraints: Mapping[str, str | int]
) -> str:
    """`profiles`: one per participant, in their numbered order (None: neutral)."""
    data: dict[str, object] = {
        "participants": [
            {"number": n, "taste_profile": p.model_dump() if p else None} for n, p in enumerate(profiles, 1)
        ],
        "exclude": list(exclude),
    }
    if constraints:
        data["constraints"] = dict(constraints)
    return json.dumps(data, ensure_ascii=False)


def suited(numbers: Sequence[int], participants: Sequence[int]) -> tuple[int, ...]:
    """The participants (discord ids) the model's numbers name, each once, in order; numbers
    that name no one are the model's mistakes and are dropped."""
    chosen = dict.fromkeys(participants[n - 1] for n in numbers if 1 <= n <= len(participants))
    return tuple(chosen)
