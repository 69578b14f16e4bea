"""Guardians' phone numbers are stored as E.164 and postcodes as Australian ones, at registration and after."""

import importlib

import pytest
from django.apps import apps
from rest_framework.test import APIClient

from guardians.models import Guardian, User
from tests.factories import GuardianFactory, UserFactory
from tests.foundation.test_auth import NEW_PASSWORD, unique_ip
from tests.helpers import assert_problem, field_errors

REGISTER = "/api/v1/guardians"
ME = "/api/v1/me"

pytestmark = pytest.mark.django_db


def register(**fields):
    data = {"email": "new.parent@example.com", "password": NEW_PASSWORD, "first_name": "Noa", "last_name": "Lee", **fields}
    return APIClient().post(REGISTER, data, format="json", REMOTE_ADDR=unique_ip())


def test_registration_stores_and_returns_the_postcode():
    response = register(postcode="2010")

    assert response.status_code == 201, response.content
    assert response.json()["guardian"]["postcode"] == "2010"
    assert Guardian.objects.get(user__email="new.parent@example.com").postcode == "2010"


@pytest.mark.parametrize("postcode", ["0800", "0200", "2600", "9999"])
def test_every_australian_range_is_accepted(postcode):
    assert register(postcode=postcode).json()["guardian"]["postcode"] == postcode


@pytest.mark.parametrize("postcode", ["200", "20000", "20a0", "0000", "0199", "0300", "0799", " 20 "])
def test_a_postcode_that_is_not_australian_is_refused(postcode):
    body = assert_problem(register(postcode=postcode), 400, "validation_error")

    assert set(field_errors(body)) == {"postcode"}
    assert field_errors(body)["postcode"][0] in ("postcode_invalid", "max_length")
    assert not User.objects.filter(email="new.parent@example.com").exists()


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("0412 345 678", "+61412345678"),
        ("(02) 9374 4000", "+61293744000"),
        ("+61 2 9374 4000", "+61293744000"),
        ("+1 650 253 0000", "+16502530000"),
        ("", ""),
    ],
)
def test_phone_numbers_are_stored_and_returned_as_e164(written, stored):
    response = register(phone=written)

    assert response.status_code == 201, response.content
    assert response.json()["phone"] == stored
    assert User.objects.get(email="new.parent@example.com").phone == stored


@pytest.mark.parametrize("phone", ["123", "0400 000", "+99 1234 5678", "call me", "0412 345 678 9999 9999 9999 9999 99"])
def test_an_invalid_phone_number_is_a_400_with_a_stable_code(phone):
    body = assert_problem(register(phone=phone), 400, "validation_error")

    assert field_errors(body)["phone"][0] in ("phone_invalid", "max_length")
    assert not User.objects.filter(email="new.parent@example.com").exists()


def test_the_profile_update_validates_and_normalises_too(client_for):
    guardian = GuardianFactory(postcode="2000")
    client = client_for(guardian.user)

    assert client.patch(ME, {"phone": "0412 345 678", "postcode": "0870"}, format="json").json()["phone"] == "+61412345678"
    guardian.refresh_from_db()
    guardian.user.refresh_from_db()
    assert (guardian.user.phone, guardian.postcode) == ("+61412345678", "0870")
    assert field_errors(assert_problem(client.patch(ME, {"phone": "12"}, format="json"), 400, "validation_error")) == {
        "phone": ["phone_invalid"]
    }
    assert field_errors(assert_problem(client.patch(ME, {"postcode": "0100"}, format="json"), 400, "validation_error")) == {
        "postcode": ["postcode_invalid"]
    }
    guardian.user.refresh_from_db()
    assert guardian.user.phone == "+61412345678"


def test_the_migration_normalises_what_parses_and_leaves_the_rest_as_it_was():
    migration = importlib.import_module("guardians.migrations.0004_phone_numbers_e164")
    users = {
        written: UserFactory(phone=written)
        for written in ["0412 345 678", "(02) 9374 4000", "+61412000111", "ring reception", "123", ""]
    }

    migration.normalise_phones(apps, None)

    assert {written: User.objects.get(pk=user.pk).phone for written, user in users.items()} == {
        "0412 345 678": "+61412345678",
        "(02) 9374 4000": "+61293744000",
        "+61412000111": "+61412000111",
        "ring reception": "ring reception",
        "123": "123",
        "": "",
    }
