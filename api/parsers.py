"""The one JSON parser of the API (REST_FRAMEWORK's DEFAULT_PARSER_CLASSES).

Everything that reads a body reads what this parsed (views through `request.data`, the
idempotency fingerprint too), so its limits protect them all:

- nesting deeper than MAX_DEPTH is refused before decoding (400 `body_too_deep`): Python's
  decoder, serializers and json.dumps all recurse, and a 2 KB body of brackets would exhaust
  the interpreter's stack;
- NaN and Infinity literals, floats that overflow to infinity (`1e400`) and integers outside
  signed 64 bits are refused (400 `malformed_request`): no column or arithmetic of ours can
  hold them, and they would otherwise fail deep inside a query or a round();
- strings PostgreSQL cannot store (text and jsonb alike) are refused (400 `malformed_request`):
  a `\\u0000` (NUL) and a `\\uD800`-style escape that is not half of a surrogate pair, which
  cannot even be encoded as UTF-8 to be logged or echoed.
"""

import json
import math
import re

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# The deepest legitimate body (a signature's strokes inside a sign-up) is five levels.
MAX_DEPTH = 32
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

# A JSON string, escapes included (the unrolled form does not backtrack).
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")
_UNSTORABLE_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


class BodyTooDeep(ParseError):
    default_detail = f"The body nests arrays and objects more than {MAX_DEPTH} levels deep."
    default_code = "body_too_deep"


class NumberOutOfRange(ValueError):
    pass


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise NumberOutOfRange(f"{text[:20]} is out of range for a number")
    return value


def _int64(text: str) -> int:
    # Python refuses integers of more than 4300 digits itself (a ValueError), before this runs.
    value = int(text)
    if not INT64_MIN <= value <= INT64_MAX:
        raise NumberOutOfRange(f"{text[:20]}... is out of range for a 64-bit integer")
    return value


def _no_constant(name: str):
    raise NumberOutOfRange(f"{name} is not a JSON number")


def nesting_exceeds(text: str, limit: int) -> bool:
    depth = 0
    for bracket in _BRACKET.findall(_STRING.sub("", text)):
        if bracket in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def json_loads_bounded(text: str):
    """Decode `text` under the limits above; raises ParseError (or BodyTooDeep)."""
    if nesting_exceeds(text, MAX_DEPTH):
        raise BodyTooDeep()
    try:
        data = json.loads(text, parse_float=_finite_float, parse_int=_int64, parse_constant=_no_constant)
    except ValueError as exc:  # JSONDecodeError, NumberOutOfRange, too many digits
        raise ParseError(f"JSON parse error - {exc}") from None
    if _UNSTORABLE_ESCAPE.search(text) and _has_unstorable_string(data):
        raise ParseError("JSON parse error - a string holds a NUL character or half of a surrogate pair")
    return data


def _has_unstorable_string(value) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_unstorable_string(key) or _has_unstorable_string(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_unstorable_string(item) for item in value)
    return False


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding)
        except UnicodeDecodeError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        return json_loads_bounded(text)
