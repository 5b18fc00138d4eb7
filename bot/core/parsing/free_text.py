"""Answers typed freely rather than picked: a note (a visit's problems, its follow-up) and a
map point copied as text."""

from __future__ import annotations

import re

_COORDINATES = re.compile(r"^\s*(-?\d{1,2}\.\d+)\s*[,; ]\s*(-?\d{1,3}\.\d+)\s*$")


def parse_note(text: str) -> str | None:
    """Free text with spaces tidied and empty lines dropped; None when it has no letters or
    digits."""
    lines = [" ".join(line.split()) for line in text.strip().splitlines()]
    cleaned = "\n".join(line for line in lines if line)
    if not cleaned or not any(ch.isalnum() for ch in cleaned):
        return None
    return cleaned


def parse_coordinates(text: str) -> tuple[float, float] | None:
    """"-6.8937, 106.7846" (as copied from a map) → (latitude, longitude); None otherwise."""
    match = _COORDINATES.match(text)
    if not match:
        return None
    lat, lon = float(match.group(1)), float(match.group(2))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return lat, lon
