"""How phone numbers and postcodes are stored: a phone as E.164 (`+61412345678`), a postcode as an
Australian one. Both the API's fields and the services use these, so nothing else decides the format."""

import re

import phonenumbers

from core.errors import DomainError

DEFAULT_PHONE_REGION = "AU"  # a number written without +country is Australian
MAX_PHONE_INPUT = 32

# Australia Post's ranges: 0200-0299 (ACT), 0800-0999 (NT), 1000-9999 (everywhere else).
_POSTCODE = re.compile(r"^(02\d\d|0[89]\d\d|[1-9]\d{3})$")


class PhoneInvalid(DomainError):
    code = "phone_invalid"
    default_message = "Not a valid phone number. Write an Australian number as 04xx xxx xxx, or any number with +country code."


class PostcodeInvalid(DomainError):
    code = "postcode_invalid"
    default_message = "Not an Australian postcode: four digits, such as 2000."


def phone_to_e164(raw: str) -> str:
    """The number in E.164, or "" for a blank one. Raises PhoneInvalid for anything that is not a
    valid number of its country (by libphonenumber's metadata, not merely the right length)."""
    text = (raw or "").strip()
    if not text:
        return ""
    if len(text) > MAX_PHONE_INPUT:
        raise PhoneInvalid()
    try:
        number = phonenumbers.parse(text, DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        raise PhoneInvalid() from None
    if not phonenumbers.is_valid_number(number):
        raise PhoneInvalid()
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def postcode_check(raw: str) -> str:
    """The postcode as stored (four digits), or "" for none. Raises PostcodeInvalid."""
    text = (raw or "").strip()
    if text and not _POSTCODE.match(text):
        raise PostcodeInvalid()
    return text
