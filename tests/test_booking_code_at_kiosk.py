"""The booking code works at the kiosk (issue 10 §4): the booking page's
confirmation names the kiosk's button and says to enter the 6-digit booking
number; the kiosk has that button and takes that number (or the phone
number). End to end in Debian's headless Chromium: book on /book/{office},
read the code and the button's name from the confirmation's text, choose
that button at the kiosk, type the code, get a ticket."""

from __future__ import annotations

import json
import re
from pathlib import Path

from queue_server.demo_data import demo_offices
from tests.browser import RequestLog, chromium, phone_page, wait_ready
from tests.conftest import ManualClock
from tests.servers import AppHarness
from tests.test_booking_e2e import (  # noqa: F401 (city and fake: the fixtures)
    FIRST_SLOT,
    MINUTE,
    book_first_slot_by_keyboard,
    city,
    fake,
)
from tests.test_booking_pages import base_url, text_of
from tests.test_kiosk_page import kiosk_context, on_screen, open_kiosk, past_card_offer

I18N = Path(__file__).resolve().parent.parent / "checkin" / "static" / "i18n"
LANGS = ("ja", "en", "ko", "zh-Hans", "vi", "ja-easy")
QUOTED = re.compile(r"[「“‘]([^」”’]+)[」”’]")


def catalog(page: str, lang: str) -> dict[str, str]:
    data = json.loads((I18N / f"{page}.{lang}.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_the_booking_page_names_the_kiosks_button_in_every_language() -> None:
    """One name for one button: what the confirmation tells people to
    choose is the kiosk's button label, word for word."""
    for lang in LANGS:
        told = catalog("book", lang)["done.checkin_kiosk"]
        kiosk = catalog("kiosk", lang)
        assert QUOTED.findall(told) == [kiosk["home.booking"]], (lang, told)
        # The booking number it mentions is what the kiosk's entry asks for.
        assert "6" in told and "6" in kiosk["booking.phone_label"], lang
        assert "6" in kiosk["home.booking_sub"] or "6" in kiosk["booking.phone_help"], lang


async def test_code_from_the_booking_confirmation_checks_in_at_the_kiosk(
        city: AppHarness, clock: ManualClock) -> None:  # noqa: F811 (the fixture)
    log = RequestLog()
    async with chromium() as browser:
        async with phone_page(browser, log=log) as phone:
            await phone.goto(f"{base_url(city)}/book/{city.office}")
            await wait_ready(phone)
            done = await book_first_slot_by_keyboard(phone, "090-2468-1357")
            told = await phone.locator("li[data-i18n='done.checkin_kiosk']").inner_text()
            code = re.sub(r"\s", "", await text_of(phone, "#code"))
            assert re.fullmatch(r"\d{6}", code) and code == done["code"]
        (button_name,) = QUOTED.findall(told)
        assert "6" in told

        # Ten minutes before the slot: inside the check-in window.
        clock.now = FIRST_SLOT.timestamp() - 10 * MINUTE
        token = await city.token("kiosk")
        viewport = {"width": 1366, "height": 768}
        async with kiosk_context(browser, clock, viewport=viewport) as page:
            await open_kiosk(page, city, token=token)
            await page.get_by_role("button", name=button_name).click()
            await on_screen(page, "booking")
            for digit in code:
                await page.click(f"#keypad button[data-key='{digit}']")
            # Shown as a booking number, not as a phone number.
            assert await text_of(page, "#entry-value") == f"{code[:3]} {code[3:]}"
            async with page.expect_request(re.compile(r"/check-in$")) as sent:
                await page.click("#entry-submit")
            assert json.loads((await sent.value).post_data or "{}") == {"code": code}
            await past_card_offer(page)
            number = await text_of(page, "#ticket-number")
            assert re.fullmatch(r"C-\d{3}", number), number  # My Number card: C
    assert log.foreign() == [], log.foreign()
    assert demo_offices()[1].id == city.office
