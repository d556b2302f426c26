"""Telegram's HTML parse mode, reproduced for the Bot API sandbox.

Follows TDLib's parser: the same accepted tags and entities, the same error wording, UTF-16 entity offsets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

JsonDict = dict[str, Any]

ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "tg-emoji": "custom_emoji",
}
NAMED_CHARACTERS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
MAX_CODE_POINT = 0x10FFFF
SURROGATES = range(0xD800, 0xE000)

_SPACES = " \t\r\n\f\v"
_PLAIN_RUN = re.compile(r"[^<&]+")
_TAG_NAME = re.compile(rf"[^{_SPACES}>]*")
_ATTRIBUTE_NAME = re.compile(rf"[^{_SPACES}=>]*")
_NAME_TOKEN = re.compile(r"[A-Za-z0-9.-]*")
_SPACE_RUN = re.compile(rf"[{_SPACES}]*")
_NAMED_REFERENCE = re.compile(r"[A-Za-z]*")
_DECIMAL_REFERENCE = re.compile(r"[0-9]*")
_HEX_REFERENCE = re.compile(r"[0-9A-Fa-f]*")


class HtmlParseError(ValueError):
    """The text is not valid Telegram HTML; the message is Telegram's description of the problem."""


@dataclass(frozen=True)
class ParsedText:
    """Plain text plus its MessageEntity dicts (offsets and lengths in UTF-16 code units)."""

    text: str
    entities: list[JsonDict] = field(default_factory=list)


@dataclass
class _OpenTag:
    name: str
    utf16_offset: int
    attributes: dict[str, str]


def utf16_length(text: str) -> int:
    """Length of `text` as Telegram counts it: in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def parse_html(html: str) -> ParsedText:
    """Parse Telegram HTML into plain text and entities; raise HtmlParseError like Telegram would."""
    return _HtmlParser(html).parse()


def strip_text(parsed: ParsedText) -> ParsedText:
    """Trim surrounding whitespace as Telegram does, shifting and clipping the entities to match."""
    text = parsed.text.strip()
    if text == parsed.text:
        return parsed
    shift = utf16_length(parsed.text[: len(parsed.text) - len(parsed.text.lstrip())])
    end = utf16_length(text)
    entities = []
    for entity in parsed.entities:
        start = max(entity["offset"] - shift, 0)
        stop = min(entity["offset"] + entity["length"] - shift, end)
        if stop > start:
            entities.append({**entity, "offset": start, "length": stop - start})
    return ParsedText(text, entities)


def decode_character_reference(html: str, pos: int) -> tuple[str, int]:
    """Decode the `&...;` reference at `pos`; an unknown one is kept as a literal "&" (as TDLib does)."""
    if html.startswith("&#x", pos):
        digits = _HEX_REFERENCE.match(html, pos + 3)
        code_point = _code_point(digits, 16)
    elif html.startswith("&#", pos):
        digits = _DECIMAL_REFERENCE.match(html, pos + 2)
        code_point = _code_point(digits, 10)
    else:
        digits = _NAMED_REFERENCE.match(html, pos + 1)
        named = NAMED_CHARACTERS.get(digits.group()) if digits else None
        code_point = ord(named) if named else None
    if digits is None or code_point is None:
        return "&", pos + 1
    end = digits.end()
    return chr(code_point), end + 1 if html.startswith(";", end) else end


def _code_point(digits: re.Match[str] | None, base: int) -> int | None:
    if digits is None or not digits.group():
        return None
    value = int(digits.group(), base)
    if SURROGATES.start <= value < SURROGATES.stop:
        raise HtmlParseError(
            "Text contains invalid Unicode characters after decoding HTML entities, "
            "check for unmatched surrogate code units"
        )
    return value if 0 < value < MAX_CODE_POINT else None


class _HtmlParser:
    """One pass over the HTML, building the plain text and closing entities as end tags arrive."""

    def __init__(self, html: str) -> None:
        self._html = html
        self._pos = 0
        self._chunks: list[str] = []
        self._utf16_length = 0
        self._open_tags: list[_OpenTag] = []
        self._entities: list[JsonDict] = []

    def parse(self) -> ParsedText:
        html = self._html
        while self._pos < len(html):
            if html.startswith("</", self._pos):
                self._read_end_tag()
            elif html[self._pos] == "<":
                self._read_start_tag()
            elif html[self._pos] == "&":
                character, self._pos = decode_character_reference(html, self._pos)
                self._append(character)
            else:
                run = _PLAIN_RUN.match(html, self._pos)
                assert run is not None
                self._append(run.group())
                self._pos = run.end()
        if self._open_tags:
            name = self._open_tags[-1].name
            raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{name}"')
        entities = sorted(self._entities, key=lambda entity: (entity["offset"], -entity["length"]))
        return ParsedText("".join(self._chunks), entities)

    def _append(self, text: str) -> None:
        self._chunks.append(text)
        self._utf16_length += utf16_length(text)

    def _byte_offset(self, pos: int) -> int:
        return len(self._html[:pos].encode())

    def _match(self, pattern: re.Pattern[str]) -> str:
        found = pattern.match(self._html, self._pos)
        assert found is not None
        self._pos = found.end()
        return found.group()

    def _at_end(self) -> bool:
        return self._pos >= len(self._html)

    def _read_start_tag(self) -> None:
        begin = self._pos
        self._pos += 1
        name = self._match(_TAG_NAME).lower()
        if self._at_end():
            raise HtmlParseError(f"Unclosed start tag at byte offset {self._byte_offset(begin)}")
        if name not in ENTITY_TYPES:
            raise HtmlParseError(f'Unsupported start tag "{name}" at byte offset {self._byte_offset(begin)}')
        attributes = self._read_attributes(name, begin)
        if name == "span" and attributes.get("class") != "tg-spoiler":
            raise HtmlParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {self._byte_offset(begin)}'
            )
        self._open_tags.append(_OpenTag(name, self._utf16_length, attributes))

    def _read_attributes(self, tag: str, begin: int) -> dict[str, str]:
        attributes: dict[str, str] = {}
        while True:
            self._match(_SPACE_RUN)
            if self._at_end():
                raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {self._byte_offset(begin)}')
            if self._html[self._pos] == ">":
                self._pos += 1
                return attributes
            name = self._match(_ATTRIBUTE_NAME).lower()
            if not name:
                raise HtmlParseError(
                    f'Empty attribute name in the tag "{tag}" at byte offset {self._byte_offset(begin)}'
                )
            self._match(_SPACE_RUN)
            if tag == "blockquote" and name == "expandable" and not self._html.startswith("=", self._pos):
                attributes[name] = ""
                continue
            if not self._html.startswith("=", self._pos):
                raise HtmlParseError(
                    f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                    f"at byte offset {self._byte_offset(begin)}"
                )
            self._pos += 1
            self._match(_SPACE_RUN)
            if self._at_end():
                raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {self._byte_offset(begin)}')
            attributes[name] = self._read_attribute_value(begin)

    def _read_attribute_value(self, begin: int) -> str:
        html = self._html
        quote = html[self._pos]
        if quote not in "\"'":
            token_begin = self._pos
            value = self._match(_NAME_TOKEN).lower()
            if self._at_end() or html[self._pos] not in _SPACES + ">":
                raise HtmlParseError(
                    f"Unexpected end of name token at byte offset {self._byte_offset(token_begin)}"
                )
            return value
        self._pos += 1
        characters: list[str] = []
        while not self._at_end() and html[self._pos] != quote:
            if html[self._pos] == "&":
                character, self._pos = decode_character_reference(html, self._pos)
            else:
                character, self._pos = html[self._pos], self._pos + 1
            characters.append(character)
        if self._at_end():
            raise HtmlParseError(f"Unclosed start tag at byte offset {self._byte_offset(begin)}")
        self._pos += 1
        return "".join(characters)

    def _read_end_tag(self) -> None:
        begin = self._pos
        if not self._open_tags:
            raise HtmlParseError(f"Unexpected end tag at byte offset {self._byte_offset(begin)}")
        self._pos += 2
        name = self._match(_TAG_NAME)
        self._match(_SPACE_RUN)
        if not self._html.startswith(">", self._pos):
            raise HtmlParseError(f"Unclosed end tag at byte offset {self._byte_offset(begin)}")
        self._pos += 1
        tag = self._open_tags.pop()
        if name and name != tag.name:
            raise HtmlParseError(
                f"Unmatched end tag at byte offset {self._byte_offset(begin)}, "
                f'expected "</{tag.name}>", found "</{name}>"'
            )
        self._close_entity(tag)

    def _close_entity(self, tag: _OpenTag) -> None:
        length = self._utf16_length - tag.utf16_offset
        css_class = tag.attributes.get("class", "")
        if tag.name == "code" and css_class.startswith("language-") and self._inside("pre"):
            self._open_tags[-1].attributes["language"] = css_class.removeprefix("language-")
            return
        entity = self._entity_for(tag)
        if length > 0 and entity is not None:
            self._entities.append({**entity, "offset": tag.utf16_offset, "length": length})

    def _inside(self, tag_name: str) -> bool:
        return bool(self._open_tags) and self._open_tags[-1].name == tag_name

    @staticmethod
    def _entity_for(tag: _OpenTag) -> JsonDict | None:
        attributes = tag.attributes
        if tag.name == "a":
            return {"type": "text_link", "url": attributes["href"]} if attributes.get("href") else None
        if tag.name == "tg-emoji":
            emoji_id = attributes.get("emoji-id")
            return {"type": "custom_emoji", "custom_emoji_id": emoji_id} if emoji_id else None
        if tag.name == "pre" and "language" in attributes:
            return {"type": "pre", "language": attributes["language"]}
        if tag.name == "blockquote" and "expandable" in attributes:
            return {"type": "expandable_blockquote"}
        return {"type": ENTITY_TYPES[tag.name]}
