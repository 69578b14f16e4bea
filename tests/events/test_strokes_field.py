"""The signature's strokes field (api.serializers.fields.StrokesField) accepts exactly what the nested
ListField of ListFields of FloatFields it replaced accepted, and gives the same values: it only checks
them in one loop."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework import serializers

from api.serializers.fields import StrokesField


class Nested(serializers.Serializer):
    strokes = serializers.ListField(
        child=serializers.ListField(child=serializers.ListField(child=serializers.FloatField(), min_length=2, max_length=2))
    )


class OneLoop(serializers.Serializer):
    strokes = StrokesField()


coordinates = st.one_of(
    st.integers(min_value=-(10**400), max_value=10**400), st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
    st.none(), st.text(max_size=5), st.sampled_from(["12", "1e999", "nan", " 3.5 ", "x" * 1001]),
)
points = st.one_of(st.lists(coordinates, min_size=0, max_size=3), coordinates, st.dictionaries(st.text(max_size=2), coordinates, max_size=2))
strokes = st.one_of(st.lists(st.one_of(st.lists(points, max_size=4), points), max_size=4), points)


@settings(max_examples=400, deadline=None)
@given(strokes)
def test_it_accepts_and_gives_what_the_nested_fields_did(data):
    nested, one_loop = Nested(data={"strokes": data}), OneLoop(data={"strokes": data})

    assert one_loop.is_valid() == nested.is_valid(), (one_loop.errors, nested.errors)
    if nested.is_valid():
        assert one_loop.validated_data["strokes"] == nested.validated_data["strokes"]


@pytest.mark.parametrize("data", [[[["a", 1]]], [[[1, 2, 3]]], [[[10**400, 1]]], "x", [[1, 2]], [[[float("nan"), 1]]]])
def test_malformed_strokes_are_one_field_error(data):
    field = OneLoop(data={"strokes": data})

    assert not field.is_valid()
    assert list(field.errors) == ["strokes"] and len(field.errors["strokes"]) == 1
