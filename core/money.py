"""Displaying money. Amounts are integer cents everywhere; only display turns them into dollars."""


def format_dollars(cents: int) -> str:
    """`1234` -> `"12.34"`, `-5` -> `"-0.05"`: integer arithmetic only, never a float.

    No currency symbol, so a spreadsheet reads the column as a number; the currency
    travels in its own field or column.
    """
    if type(cents) is not int:
        raise TypeError(f"cents must be an int, got {cents!r}")
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"
