"""Text helpers every channel shares: splitting a long reply at the channel's own limit."""

from __future__ import annotations


def split_text(text: str, limit: int) -> list[str]:
    """``text`` in parts of at most ``limit`` characters each, cut at line breaks where possible.

    The limit is counted on the text as written (HTML included), never shorter than what a channel counts.
    """
    if len(text) <= limit and not text.startswith("\n"):
        return [text]  # what the cutting below gives back for it (it drops leading empty lines), at once
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:  # one line longer than a message: cut it, the rest goes on
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    parts.append(current)
    return [part for part in parts if part.strip()] or [text]
