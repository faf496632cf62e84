"""JSON request bodies that cannot crash the server: too deep, malformed or unstorable is a 400.

json.loads recurses once per nesting level, so 50,000 '[' exhaust the stack (a RecursionError,
a 500). The depth is therefore measured on the raw bytes before json.loads sees them. Strings
holding U+0000 or an unpaired surrogate are refused too: PostgreSQL cannot store the first
(text nor jsonb) and no encoder can write the second, so either would be a 500 later.
"""

import codecs
import json
import re

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils.json import strict_constant

MAX_JSON_DEPTH = 64

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')  # one JSON string literal, escapes included
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
# Only bodies with one of these escapes (or the raw bytes) can decode to an unstorable string.
_SUSPECT = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])|\x00|\xed[\xa0-\xbf]")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # after decoding, a valid pair is one astral char


class InvalidJSON(ValueError):
    """The body is not JSON this server accepts; str() says why."""


def nesting_exceeds(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Return True when raw nests arrays and objects deeper than limit (brackets in strings ignored)."""
    if raw.count(b"[") + raw.count(b"{") <= limit:  # most bodies stop here
        return False
    depth = 0
    # Strings removed, only the brackets are left: one C-speed pass each, then a byte loop.
    for byte in _STRING.sub(b"", raw).translate(None, _NOT_BRACKETS):
        if byte in b"[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _first_unstorable(value) -> str | None:
    """Return the first string (key or value) in parsed JSON holding NUL or a lone surrogate."""
    stack = [value]
    while stack:  # a loop, not recursion: depth is bounded already, but this stays cheap
        item = stack.pop()
        if isinstance(item, str):
            if _UNSTORABLE.search(item):
                return item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def loads_bounded(raw: bytes, limit: int = MAX_JSON_DEPTH, **loads_kwargs):
    """Return json.loads(raw); InvalidJSON (never RecursionError) for input this server refuses."""
    if nesting_exceeds(raw, limit):
        raise InvalidJSON(f"JSON nested deeper than {limit} levels.")
    try:
        data = json.loads(raw, **loads_kwargs)
    except RecursionError:  # unreachable after the depth check; kept so no input is ever a 500
        raise InvalidJSON(f"JSON nested deeper than {limit} levels.") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, NaN under strict
        raise InvalidJSON(f"JSON parse error - {exc}") from None
    if _SUSPECT.search(raw) and _first_unstorable(data) is not None:
        raise InvalidJSON("JSON strings may not contain U+0000 or unpaired surrogates (U+D800-U+DFFF).")
    return data


class BoundedJSONParser(JSONParser):
    """DRF's JSONParser with a depth limit, a size limit and storable strings; any refusal is a 400."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            codec = codecs.lookup(encoding)
        except LookupError:
            raise ParseError(f"Unknown charset {encoding!r}.") from None
        if not codec._is_text_encoding:  # bz2_codec & co. would decompress, not decode
            raise ParseError(f"Charset {encoding!r} is not a text encoding.")
        raw = _read_limited(stream)
        try:
            if codec.name != "utf-8":
                raw = raw.decode(codec.name).encode("utf-8", "surrogatepass")
            return loads_bounded(raw, parse_constant=strict_constant if self.strict else None)
        except (InvalidJSON, UnicodeError) as exc:
            raise ParseError(str(exc)) from None


def _read_limited(stream) -> bytes:
    """Read the body, refusing one over DATA_UPLOAD_MAX_MEMORY_SIZE (RequestDataTooBig: a 413)."""
    if stream is None:
        return b""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    raw = stream.read() if limit is None else stream.read(limit + 1)
    if limit is not None and len(raw) > limit:
        raise RequestDataTooBig(f"Request body exceeded DATA_UPLOAD_MAX_MEMORY_SIZE ({limit} bytes).")
    return raw
