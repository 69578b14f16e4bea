"""api.serializers.fields.as_datetime writes timestamps by hand on hot paths; it must write what DRF writes."""

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone as django_timezone
from rest_framework import serializers

from api.serializers.fields import as_datetime

INSTANTS = [
    datetime(2026, 11, 28, 0, 45, tzinfo=UTC),
    datetime(2026, 11, 28, 0, 45, 0, 123456, tzinfo=UTC),
    datetime(2026, 4, 5, 2, 30, tzinfo=ZoneInfo("Australia/Sydney")),
    datetime(2026, 10, 4, 8, 29, 59, 999000, tzinfo=ZoneInfo("Australia/Perth")),
    datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=-3, minutes=-30))),
]


@pytest.mark.parametrize("instant", INSTANTS)
def test_as_datetime_writes_what_drf_writes(instant):
    assert as_datetime(instant) == serializers.DateTimeField().to_representation(instant)


@pytest.mark.parametrize("instant", INSTANTS)
def test_as_datetime_follows_an_activated_time_zone_as_drf_does(instant):
    with django_timezone.override(ZoneInfo("Australia/Adelaide")):
        assert as_datetime(instant) == serializers.DateTimeField().to_representation(instant)


def test_as_datetime_of_nothing_is_null():
    assert as_datetime(None) is None
