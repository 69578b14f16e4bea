"""Australian Business Number check digits (the ATO's published algorithm)."""

ABN_WEIGHTS = (10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19)


def abn_is_valid(abn: str) -> bool:
    digits = abn.replace(" ", "")
    if len(digits) != 11 or not digits.isdigit():
        return False
    values = [int(d) for d in digits]
    values[0] -= 1
    return sum(v * w for v, w in zip(values, ABN_WEIGHTS, strict=True)) % 89 == 0
