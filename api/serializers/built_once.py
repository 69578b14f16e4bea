"""Serializers built once per process, for the money endpoints (the tills' sales and scans, pre-orders, card funding).

DRF builds a serializer's fields anew for each instance: a deep copy of every declared field, its
validators rebuilt with it. For a counter sale's input and receipt that was 0.23 ms of the 0.26 ms the
two serializers cost a request (docs/performance.md). The fields are only built once per instance
(`Serializer.fields` is cached on it), so one instance per class, kept for the process, gives the
same answers through the serializer's public methods:

- `run_validation(data)` is what `is_valid()` runs: it returns the same validated data and raises the
  same `ValidationError`, whose detail the problem handler renders as it always does;
- `to_representation(instance)` is what `.data` holds.

Only for a serializer that keeps nothing between calls: no `context` (there is none to give one
instance per process), no `initial_data`, no `instance`. Validation and rendering keep no state on
the serializer or its fields, so the instance is safe to share between threads as well.
"""

import functools

from rest_framework import serializers


@functools.cache
def _instance(serializer_class: type[serializers.Serializer]) -> serializers.Serializer:
    return serializer_class()


def validated(serializer_class: type[serializers.Serializer], data) -> dict:
    """The body validated by `serializer_class`, or its ValidationError (a 400), as `is_valid()` gives."""
    try:
        return _instance(serializer_class).run_validation(data)
    except serializers.ValidationError as exc:
        if isinstance(exc.detail, dict):
            raise
    # A body that is not an object (null, a list, a number): `is_valid()` words that refusal itself
    # ("No data provided", non_field_errors), so let a serializer of its own refuse it exactly as
    # every other endpoint does.
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def rendered(serializer_class: type[serializers.Serializer], instance) -> dict:
    """`serializer_class(instance).data`, without building its fields again."""
    return _instance(serializer_class).to_representation(instance)
