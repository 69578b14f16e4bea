"""Voucher numbers: 14 random Crockford base32 characters (70 bits) and a check character.

Printed in three groups of five, `7KQ2M-9XD4R-TA0B5`. Crockford's alphabet has no
I, L, O or U, so the number survives being read aloud and typed; typed I and L
are read as 1 and O as 0. The check character (Luhn mod 32) catches every single
mistyped character and most swapped neighbours before any look-up is made.
"""

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALUES = {char: value for value, char in enumerate(ALPHABET)}
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0"})
RANDOM_LENGTH = 14
LENGTH = RANDOM_LENGTH + 1
RANDOM_BITS = RANDOM_LENGTH * 5


def _luhn_sum(chars: str, *, double_first: bool) -> int:
    total = 0
    double = double_first
    for char in reversed(chars):
        addend = _VALUES[char] * (2 if double else 1)
        total += addend // 32 + addend % 32
        double = not double
    return total


def check_character(payload: str) -> str:
    return ALPHABET[(32 - _luhn_sum(payload, double_first=True) % 32) % 32]


def generate() -> str:
    payload = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return payload + check_character(payload)


def normalise(raw: str) -> str | None:
    """The canonical number for what a person typed, or None if it cannot be a voucher number."""
    if not isinstance(raw, str) or len(raw) > 40:
        return None
    cleaned = "".join(raw.split()).replace("-", "").upper().translate(_READ_AS)
    if len(cleaned) != LENGTH or any(char not in _VALUES for char in cleaned):
        return None
    if _luhn_sum(cleaned, double_first=False) % 32 != 0:
        return None
    return cleaned


def formatted(number: str) -> str:
    return "-".join(number[i : i + 5] for i in range(0, len(number), 5))


def masked(number: str) -> str:
    """For statements: enough to match a receipt, not enough to spend."""
    return "*****-*****-" + number[-5:]


def to_int(number: str) -> int:
    value = 0
    for char in number[:RANDOM_LENGTH]:
        value = value * 32 + _VALUES[char]
    return value


def from_int(value: int) -> str:
    if not 0 <= value < 1 << RANDOM_BITS:
        raise ValueError("out of range")
    chars = []
    for _ in range(RANDOM_LENGTH):
        value, digit = divmod(value, 32)
        chars.append(ALPHABET[digit])
    payload = "".join(reversed(chars))
    return payload + check_character(payload)
