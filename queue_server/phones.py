"""Japanese phone numbers, parsed by the maintained `phonenumbers` library.

Accepts what people type: 090-1234-5678, 09012345678, full-width digits,
+81 90 ...; stores E.164. Only 070/080/090 mobiles can receive SMS."""

from __future__ import annotations

import unicodedata

import phonenumbers
from phonenumbers import PhoneNumberType

from .errors import MadoguchiError

MOBILE_PREFIXES = ("+8170", "+8180", "+8190")


def parse_japanese_phone(text: str) -> str:
    """E.164 form of a valid Japanese number, else MadoguchiError(invalid_phone)."""
    cleaned = unicodedata.normalize("NFKC", text or "").strip()
    if not cleaned or len(cleaned) > 30:
        raise MadoguchiError("invalid_phone")
    try:
        number = phonenumbers.parse(cleaned, "JP")
    except phonenumbers.NumberParseException as exc:
        raise MadoguchiError("invalid_phone") from exc
    if number.country_code != 81 or not phonenumbers.is_valid_number(number):
        raise MadoguchiError("invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_japanese_mobile(e164: str) -> bool:
    if not e164.startswith(MOBILE_PREFIXES):
        return False
    number = phonenumbers.parse(e164)
    return phonenumbers.number_type(number) == PhoneNumberType.MOBILE


def mask(e164: str) -> str:
    """For staff screens and logs that must not show the whole number."""
    return "•" * max(0, len(e164) - 4) + e164[-4:]
