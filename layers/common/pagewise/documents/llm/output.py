"""Checking the translation answer: the JSON asked for, or a reason to ask once more."""

from __future__ import annotations

import json
import re


class InvalidOutput(Exception):
    """The answer is not the JSON asked for; worth one corrective retry."""


_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL | re.IGNORECASE)


def parse_translation(content: str) -> tuple[str, str, str | None]:
    text = content.strip()
    fenced = _FENCE.match(text)  # some servers wrap JSON-mode output in a Markdown fence
    if fenced:
        text = fenced.group(1)
    if not text:
        raise InvalidOutput("the answer was empty")
    try:
        data = json.loads(text)
    except ValueError as error:
        raise InvalidOutput(f"the answer was not valid JSON ({error})") from None
    if not isinstance(data, dict):
        raise InvalidOutput("the answer was JSON but not an object")
    missing = [
        key for key in ("legal_english", "plain_english") if not isinstance(data.get(key), str)
    ]
    if missing:
        raise InvalidOutput(f"the JSON object had no string {' or '.join(missing)}")
    detected = data.get("detected_language")
    language = detected.strip().casefold() if isinstance(detected, str) else ""
    return (
        data["legal_english"].strip(),
        data["plain_english"].strip(),
        None if language in ("", "und", "unknown") else language,
    )
