"""Markup parsing (parse_mode), close enough to Telegram to catch the same mistakes."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any, ClassVar

from bot.localapi.records import (
    _bad_request,
)


class _ParseError(Exception):
    """Raised for markup Telegram would refuse ("can't parse entities: ...")."""


def _utf16_len(text: str) -> int:
    # Telegram counts entity offsets and lengths in UTF-16 code units.
    return len(text.encode("utf-16-le")) // 2


class _HtmlToEntities(HTMLParser):
    """Turns Telegram-flavoured HTML into plain text plus entities; refuses other tags."""

    _TAGS: ClassVar[dict[str, str]] = {
        "b": "bold",
        "strong": "bold",
        "i": "italic",
        "em": "italic",
        "u": "underline",
        "ins": "underline",
        "s": "strikethrough",
        "strike": "strikethrough",
        "del": "strikethrough",
        "tg-spoiler": "spoiler",
        "span": "spoiler",
        "a": "text_link",
        "code": "code",
        "pre": "pre",
        "blockquote": "blockquote",
        "tg-emoji": "custom_emoji",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.position = 0
        self.stack: list[tuple[str, int, dict[str, str | None]]] = []
        self.entities: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self._TAGS:
            raise _ParseError(f'Unsupported start tag "{tag}"')
        attributes = dict(attrs)
        if tag == "span" and attributes.get("class") != "tg-spoiler":
            raise _ParseError('Tag "span" must have class "tg-spoiler"')
        if tag == "a" and not attributes.get("href"):
            raise _ParseError('Tag "a" must have attribute "href"')
        self.stack.append((tag, self.position, attributes))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise _ParseError(f'Unsupported start tag "{tag}"')

    def handle_endtag(self, tag: str) -> None:
        if not self.stack:
            raise _ParseError(f'Unexpected end tag "{tag}"')
        open_tag, start, attributes = self.stack.pop()
        if open_tag != tag:
            raise _ParseError(f'Unmatched end tag "{tag}", expected "</{open_tag}>"')
        length = self.position - start
        if length <= 0:
            return  # Telegram drops empty entities
        entity: dict[str, Any] = {"type": self._TAGS[tag], "offset": start, "length": length}
        if tag == "a":
            entity["url"] = attributes["href"]
        elif tag == "pre" and self.entities and self.entities[-1].get("language") and (
            self.entities[-1]["offset"], self.entities[-1]["length"]) == (start, length):
            return  # the inner <code class="language-..."> already made this pre entity
        elif tag == "code" and self.stack and self.stack[-1][0] == "pre":
            # <pre><code class="language-x"> sets the language of the enclosing pre block.
            language = (attributes.get("class") or "").removeprefix("language-")
            if language:
                entity = {"type": "pre", "offset": start, "length": length, "language": language}
        elif tag == "tg-emoji":
            entity["custom_emoji_id"] = attributes.get("emoji-id") or ""
        elif tag == "blockquote" and "expandable" in attributes:
            entity["type"] = "expandable_blockquote"
        self.entities.append(entity)

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        self.position += _utf16_len(data)

    def result(self) -> tuple[str, list[dict[str, Any]]]:
        self.close()
        if self.stack:
            tag = self.stack[-1][0]
            raise _ParseError(f'Can\'t find end tag corresponding to start tag "{tag}"')
        return "".join(self.parts), sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))


_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_NAMES = {"*": "bold", "_": "italic", "__": "underline", "~": "strikethrough", "||": "spoiler"}
# How Telegram names an unclosed entity in its error message.
_MDV2_ERROR_NAMES = {"*": "Bold", "_": "Italic", "__": "Underline", "~": "Strikethrough",
                     "||": "Spoiler", "`": "Code", "```": "Pre", "[": "TextUrl"}


def _parse_markdown_v2(source: str) -> tuple[str, list[dict[str, Any]]]:
    """MarkdownV2 as Telegram parses it, including its insistence on escaping reserved chars."""
    parts: list[str] = []
    position = 0
    entities: list[dict[str, Any]] = []
    stack: list[tuple[str, int, int]] = []  # (marker, start offset, byte offset in source)
    index = 0

    def emit(chunk: str) -> None:
        nonlocal position
        parts.append(chunk)
        position += _utf16_len(chunk)

    def byte_offset(at: int) -> int:
        return len(source[:at].encode("utf-8"))

    def close(name: str, **extra: Any) -> None:
        _, start, _ = stack.pop()
        if position > start:
            entities.append({"type": name, "offset": start, "length": position - start, **extra})

    while index < len(source):
        char = source[index]
        top = stack[-1][0] if stack else None
        if char == "\\":
            if index + 1 >= len(source):
                raise _ParseError(f"Character '\\' is reserved and must be escaped with the "
                                  f"preceding '\\' at byte offset {byte_offset(index)}")
            emit(source[index + 1])
            index += 2
            continue
        if top in ("`", "```"):
            # Inside code only ` and \ are special.
            if top == "```" and source.startswith("```", index):
                close("pre")
                index += 3
            elif top == "`" and char == "`":
                close("code")
                index += 1
            else:
                emit(char)
                index += 1
            continue
        if source.startswith("```", index):
            index += 3
            newline = source.find("\n", index)
            language = source[index:newline] if newline != -1 else ""
            if language and language.strip() == language and " " not in language:
                index = newline + 1
            stack.append(("```", position, byte_offset(index)))
            continue
        if char == "`":
            stack.append(("`", position, byte_offset(index)))
            index += 1
            continue
        marker = None
        for candidate in ("||", "__", "*", "_", "~"):
            if source.startswith(candidate, index):
                marker = candidate
                break
        if marker == "__" and top == "_":
            marker = "_"  # "_italic_" closing right before another "_"
        if marker is not None:
            if top == marker:
                close(_MDV2_NAMES[marker])
            elif any(entry[0] == marker for entry in stack):
                raise _ParseError(f"Can't find end of {_MDV2_ERROR_NAMES[top or marker]} "
                                  f"entity at byte offset {stack[-1][2]}")
            else:
                stack.append((marker, position, byte_offset(index)))
            index += len(marker)
            continue
        if char == "[" or (char == "!" and source.startswith("![", index)):
            index += 1 if char == "[" else 2
            stack.append(("[", position, byte_offset(index)))
            continue
        if char == "]" and top == "[":
            if not source.startswith("(", index + 1):
                raise _ParseError(f"Character ']' is reserved and must be escaped with the "
                                  f"preceding '\\' at byte offset {byte_offset(index)}")
            cursor = index + 2
            url_chars: list[str] = []
            while cursor < len(source) and source[cursor] != ")":
                if source[cursor] == "\\" and cursor + 1 < len(source):
                    cursor += 1
                url_chars.append(source[cursor])
                cursor += 1
            if cursor >= len(source):
                raise _ParseError(f"Can't find end of a url at byte offset {byte_offset(index)}")
            url = "".join(url_chars)
            if url.startswith("tg://emoji?id="):
                close("custom_emoji", custom_emoji_id=url.removeprefix("tg://emoji?id="))
            else:
                close("text_link", url=url)
            index = cursor + 1
            continue
        if char == ">" and (index == 0 or source[index - 1] == "\n"):
            index += 1  # blockquote line marker; the quote itself is not needed by tests
            continue
        if char in _MDV2_RESERVED:
            raise _ParseError(f"Character '{char}' is reserved and must be escaped with the "
                              f"preceding '\\'")
        emit(char)
        index += 1
    if stack:
        marker, _, offset = stack[-1]
        raise _ParseError(f"Can't find end of {_MDV2_ERROR_NAMES[marker]} entity at byte "
                          f"offset {offset}")
    return "".join(parts), sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def _parse_markdown(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Legacy Markdown: *bold*, _italic_, `code`, ```pre```, [text](url); no nesting."""
    parts: list[str] = []
    position = 0
    entities: list[dict[str, Any]] = []
    index = 0
    markers = {"*": "bold", "_": "italic", "`": "code"}

    def emit(chunk: str) -> None:
        nonlocal position
        parts.append(chunk)
        position += _utf16_len(chunk)

    while index < len(source):
        char = source[index]
        if char == "\\" and index + 1 < len(source) and source[index + 1] in "_*`[":
            emit(source[index + 1])
            index += 2
            continue
        if source.startswith("```", index) or char in markers or char == "[":
            opener = "```" if source.startswith("```", index) else char
            closer = "]" if opener == "[" else opener
            end = source.find(closer, index + len(opener))
            if end == -1:
                raise _ParseError("Can't find end of the entity starting at byte offset "
                                  f"{len(source[:index].encode('utf-8'))}")
            inner = source[index + len(opener):end]
            start = position
            emit(inner)
            after = end + len(closer)
            if opener == "[":
                if source.startswith("(", after) and ")" in source[after:]:
                    url_end = source.index(")", after)
                    if position > start:
                        entities.append({"type": "text_link", "offset": start,
                                         "length": position - start,
                                         "url": source[after + 1:url_end]})
                    after = url_end + 1
            elif position > start:
                entities.append({"type": "pre" if opener == "```" else markers[opener],
                                 "offset": start, "length": position - start})
            index = after
            continue
        emit(char)
        index += 1
    return "".join(parts), entities


def _apply_parse_mode(
    source: str, parse_mode: str | None, entities: list[dict[str, Any]] | None
) -> tuple[str, list[dict[str, Any]]]:
    """What the user sees for ``source``: explicit entities win over parse_mode, as in Telegram."""
    if entities is not None:
        return source, list(entities)
    if not parse_mode:
        return source, []
    mode = parse_mode.lower()
    try:
        if mode == "html":
            parser = _HtmlToEntities()
            parser.feed(source)
            return parser.result()
        if mode == "markdownv2":
            return _parse_markdown_v2(source)
        if mode == "markdown":
            return _parse_markdown(source)
    except _ParseError as exc:
        raise _bad_request(f"can't parse entities: {exc}") from None
    raise _bad_request(f"unsupported parse_mode {parse_mode!r}")


