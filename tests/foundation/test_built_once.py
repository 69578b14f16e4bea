"""Serializers built once per process (api/serializers/built_once.py) answer exactly as fresh ones do."""

import pytest
from rest_framework import serializers

from api.serializers.built_once import rendered, validated
from api.serializers.canteen import CounterSaleInput, CounterSaleOutput
from api.serializers.vouchers import VoucherRedeemInput


def fresh_validation(serializer_class, data):
    """(validated data, None) or (None, the error detail), as `is_valid()` gives them."""
    serializer = serializer_class(data=data)
    if serializer.is_valid():
        return serializer.validated_data, None
    return None, serializer.errors


def shared_validation(serializer_class, data):
    try:
        return validated(serializer_class, data), None
    except serializers.ValidationError as exc:
        return None, exc.detail


SALE_BODIES = [
    {"card_identifier": "04A1B2C3", "items": [{"item_id": 5, "quantity": 2}]},
    {"card_identifier": "", "items": [{"item_id": "x"}]},
    {"card_identifier": "04A1B2C3", "items": []},
    {"card_identifier": "04A1B2C3", "items": [{"item_id": 5, "quantity": 1}] * 21},
    {"items": "not a list"},
    {},
    None,
    [],
    [{"card_identifier": "04A1B2C3"}],
    "text",
    7,
]


@pytest.mark.parametrize("body", SALE_BODIES, ids=repr)
def test_a_shared_input_validates_and_refuses_as_a_fresh_one(body):
    assert shared_validation(CounterSaleInput, body) == fresh_validation(CounterSaleInput, body)


REDEEM_BODIES = [
    {"vouchers": [{"qr": "TBV1.abc"}], "amount": 500},
    {"vouchers": [{"qr": "TBV1.abc", "number": "ABCDE"}], "amount": 500},
    {"vouchers": [{"number": "ABCDE-FGHIJ-KLMNP"}], "amount": 500},
    {"vouchers": [{"number": "!!", "date_of_birth": "2015-01-01"}], "amount": -1, "category": "nope"},
]


@pytest.mark.parametrize("body", REDEEM_BODIES, ids=repr)
def test_a_shared_input_runs_the_serializers_own_validate_methods(body):
    assert shared_validation(VoucherRedeemInput, body) == fresh_validation(VoucherRedeemInput, body)


def test_a_refusal_leaves_nothing_behind_for_the_next_body():
    good = SALE_BODIES[0]
    with pytest.raises(serializers.ValidationError):
        validated(CounterSaleInput, SALE_BODIES[1])

    assert validated(CounterSaleInput, good) == {"card_identifier": "04A1B2C3", "items": [{"item_id": 5, "quantity": 2}]}


def test_a_shared_output_renders_as_a_fresh_one():
    line = {"menu_item_id": 15, "name": "Wrap", "unit_price": 450, "quantity": 2, "line_total": 900, "allergens": ["gluten", "egg"]}
    receipts = [
        {"charge_id": 1, "status": "approved", "amount": 900, "remaining_balance": 100, "lines": [line], "student_first_name": "Mia", "student_last_initial": "N"},
        {"charge_id": 2, "status": "approved", "amount": 0, "remaining_balance": 0, "lines": [], "student_first_name": "Ari", "student_last_initial": ""},
    ]

    for receipt in receipts:
        assert rendered(CounterSaleOutput, receipt) == CounterSaleOutput(receipt).data
    assert rendered(CounterSaleOutput, receipts[0])["lines"][0]["allergens"] == ["gluten", "egg"]
