"""The online booking pages /book/{office} and /b/{token} (checkin/booking_pages.py),
driven in Debian's headless Chromium through Playwright against the real app
and booking API on 127.0.0.1, plus checks of the message catalogs (which the
lobby page /here/{office} shares)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from redis.asyncio import Redis
from yarl import URL

from queue_server.office_config import Office
from tests.browser import (
    RequestLog,
    audit,
    chromium,
    focus_is,
    phone_page,
    tab_to,
    wait_ready,
)
from tests.servers import AppHarness, app_harness

STATIC = Path(__file__).resolve().parent.parent / "checkin" / "static"
BOOK = STATIC / "book"
HERE = STATIC / "here"
PAGE_DIRS = (BOOK, HERE)
# The modules the pages share with the other pages (the language names' keys).
COMMON = Path(__file__).resolve().parent.parent / "queue_server" / "static" / "common"
I18N = STATIC / "i18n"
LANGS = ("ja", "en", "ko", "zh-Hans", "vi", "ja-easy")
TOKYO = ZoneInfo("Asia/Tokyo")


def catalog(lang: str) -> dict[str, str]:
    data = json.loads((I18N / f"book.{lang}.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def names(ja: str, en: str, ko: str, zh: str, vi: str) -> dict[str, str]:
    return {"ja": ja, "en": en, "ko": ko, "zh-Hans": zh, "vi": vi}


def booking_office(office_id: str = "testoffice") -> Office:
    """Two bookable services (one slot place each, so a second booking fills
    a slot) and one that cannot be booked online."""
    return Office.model_validate({
        "id": office_id,
        "names": names("テスト区役所", "Test Ward Office", "테스트 구청", "测试区役所",
                       "Văn phòng quận Test"),
        "services": [
            {"id": "juminhyo", "letter": "A", "bookable": True, "konbini": True,
             "slot_minutes": 30, "slot_capacity": 1, "booking_lead_minutes": 0,
             "names": names("住民票の写し", "Residence record", "주민표", "住民票",
                            "Phiếu cư trú"),
             "bring": names("本人確認書類", "Photo ID", "신분증", "身份证明文件",
                            "Giấy tờ tùy thân")},
            {"id": "okuyami", "letter": "J", "bookable": True, "walk_in": False,
             "slot_minutes": 60, "slot_capacity": 2,
             "names": names("おくやみ", "Bereavement", "사망 신고 후 절차", "丧葬手续",
                            "Thủ tục khi có người mất")},
            {"id": "madoguchi", "letter": "B", "bookable": False,
             "names": names("窓口のみ", "Counter only", "창구 전용", "仅限窗口",
                            "Chỉ tại quầy")},
        ],
        "counters": [
            {"id": "1", "names": {"ja": "1番窓口", "en": "Counter 1"},
             "services": ["juminhyo", "madoguchi"]},
            {"id": "2", "names": {"ja": "2番窓口", "en": "Counter 2"}, "services": ["okuyami"]},
        ],
    })


@pytest.fixture
async def site(redis: Redis, tenant: str) -> AsyncIterator[AppHarness]:
    """create_app (pages come in through the madoguchi.web entry point) on
    127.0.0.1 with the booking office configured."""
    async with app_harness(redis, tenant, booking_office()) as harness:
        yield harness


def base_url(site: AppHarness) -> str:
    return str(site.client.make_url("")).rstrip("/")


async def text_of(page: Any, selector: str) -> str:
    return (await page.text_content(selector) or "").strip()


async def step_shown(page: Any, step: str) -> None:
    await page.wait_for_selector(f"#step-{step}", state="visible", timeout=10_000)


async def book_by_keyboard(page: Any, *, phone: str = "090-1234-5678",
                           name: str = "") -> dict[str, str]:
    """Service → date → time → phone → confirm → done with Tab, typing and
    Enter only. Checks that every step change puts focus on its heading.
    Returns what was chosen."""
    await tab_to(page, "#service-list button.choice")
    service = await page.evaluate("document.activeElement.textContent")
    await page.keyboard.press("Enter")
    await step_shown(page, "date")
    assert await focus_is(page, "#h-date")

    await tab_to(page, "#date-list button.choice")
    day = await page.evaluate("document.activeElement.dataset.date")
    await page.keyboard.press("Enter")
    await step_shown(page, "time")
    assert await focus_is(page, "#h-time")

    await tab_to(page, "#time-list button.choice")
    slot = await page.evaluate("document.activeElement.dataset.slot")
    slot_label = await page.evaluate(
        "document.activeElement.querySelector('.choice-main').textContent")
    await page.keyboard.press("Space")
    await step_shown(page, "phone")
    assert await focus_is(page, "#h-phone")

    await tab_to(page, "#phone")
    await page.keyboard.type(phone)
    if name:
        await page.keyboard.press("Tab")
        assert await focus_is(page, "#name")
        await page.keyboard.type(name)
    await page.keyboard.press("Enter")  # submits the form from either field
    await step_shown(page, "confirm")
    assert await focus_is(page, "#h-confirm")

    await tab_to(page, "#submit")
    await page.keyboard.press("Enter")
    await step_shown(page, "done")
    assert await focus_is(page, "#h-done")
    return {"service": service, "date": day, "slot": slot, "slot_label": slot_label}


async def manage_token(page: Any) -> str:
    href = await page.get_attribute("#manage-link", "href")
    match = re.fullmatch(r"/b/([^?]+)(\?lang=[\w-]+)?", href or "")
    assert match, href
    return match.group(1)


# --- the booking flow ----------------------------------------------------------


async def test_keyboard_only_booking_ends_on_done_page(site: AppHarness) -> None:
    log = RequestLog()
    async with chromium() as browser, phone_page(browser, log=log) as page:
        await page.goto(f"{base_url(site)}/book/{site.office}")
        await wait_ready(page)
        ja = catalog("ja")
        assert await page.get_attribute("html", "lang") == "ja"
        assert await text_of(page, "h1") == ja["book.heading"]
        # Only bookable services are offered.
        offered = await page.locator("#service-list button").all_text_contents()
        assert [s.strip() for s in offered] == [
            "住民票の写し" + ja["service.konbini"], "おくやみ"]

        chosen = await book_by_keyboard(page, name="山田 花子")

        code = re.sub(r"\s", "", await text_of(page, "#code"))
        assert re.fullmatch(r"\d{6}", code), code
        assert await text_of(page, "#h-done") == ja["done.title"]
        assert " ".join(code) in await text_of(page, "#code-sr")
        token = await manage_token(page)
        await page.screenshot(path="/tmp/book_done_ja.png", full_page=True)

    # The booking exists, as the page said.
    booking = await site.ok("GET", f"/api/v1/bookings/{token}")
    assert booking["status"] == "booked"
    assert booking["code"] == code
    assert booking["service"] == "juminhyo"
    assert booking["lang"] == "ja"
    assert datetime.fromisoformat(booking["slot_start"]) == datetime.fromisoformat(
        chosen["slot"])
    assert chosen["date"] == datetime.fromisoformat(chosen["slot"]).astimezone(TOKYO).date(
        ).isoformat()
    assert log.foreign() == [], log.foreign()
    assert log.console_errors == []


async def test_language_switch_shows_korean_and_vietnamese(site: AppHarness) -> None:
    ko, vi = catalog("ko"), catalog("vi")
    async with chromium() as browser, phone_page(browser) as page:
        await page.goto(f"{base_url(site)}/book/{site.office}?lang=ko")
        await wait_ready(page)
        assert await page.get_attribute("html", "lang") == "ko"
        assert await text_of(page, "h1") == ko["book.heading"]
        assert await text_of(page, "#h-service") == ko["service.title"]
        assert await text_of(page, "#progress") == ko["common.progress"].format(n=1, total=5)
        assert await text_of(page, "#office-name") == "테스트 구청"
        assert "주민표" in await text_of(page, "#service-list")
        assert await page.get_attribute("button[data-lang='ko']", "aria-pressed") == "true"

        # Switch by keyboard to Vietnamese.
        await tab_to(page, "button[data-lang='vi']")
        await page.keyboard.press("Enter")
        await page.wait_for_function("() => document.documentElement.lang === 'vi'")
        assert await text_of(page, "h1") == vi["book.heading"]
        assert await text_of(page, "#h-service") == vi["service.title"]
        assert "Phiếu cư trú" in await text_of(page, "#service-list")
        assert await page.get_attribute("button[data-lang='vi']", "aria-pressed") == "true"
        assert await page.get_attribute("button[data-lang='ko']", "aria-pressed") == "false"
        assert await page.title() == vi["book.page_title_office"].format(
            office="Văn phòng quận Test")
        # Each language button says its name in its own language.
        assert await page.get_attribute("button[data-lang='ko']", "lang") == "ko"
        assert await text_of(page, "button[data-lang='ko']") == "한국어"

        # Remembered: without ?lang the page comes back in Vietnamese.
        await page.goto(f"{base_url(site)}/book/{site.office}")
        await wait_ready(page)
        assert await page.get_attribute("html", "lang") == "vi"
        assert await text_of(page, "#h-service") == vi["service.title"]


async def test_vietnamese_booking_in_another_time_zone_shows_tokyo_times(
        site: AppHarness) -> None:
    """A phone set to Los Angeles time still sees the office's (Tokyo) times,
    in Vietnamese; the done page is screenshotted for a human look."""
    vi = catalog("vi")
    async with chromium() as browser:
        context = await browser.new_context(locale="vi-VN", timezone_id="America/Los_Angeles",
                                            viewport={"width": 390, "height": 844},
                                            device_scale_factor=2, is_mobile=True,
                                            has_touch=True)
        page = await context.new_page()
        try:
            await page.goto(f"{base_url(site)}/book/{site.office}?lang=vi")
            await wait_ready(page)
            chosen = await book_by_keyboard(page, phone="080-2222-3333", name="Nguyễn Văn An")
            start = datetime.fromisoformat(chosen["slot"]).astimezone(TOKYO)
            hhmm = f"{start.hour}:{start:%M}"  # 8:30 in Tokyo, not 15:30 in Los Angeles
            assert chosen["slot_label"].lstrip("0").startswith(hhmm), chosen
            assert await page.get_attribute("html", "lang") == "vi"
            assert await text_of(page, "#h-done") == vi["done.title"]
            time_text = await text_of(page, "#d-time")
            assert time_text.lstrip("0").startswith(hhmm), time_text
            assert "tháng" in (await text_of(page, "#d-date")).lower()  # Vietnamese date
            await page.screenshot(path="/tmp/book_done_vi.png", full_page=True)
        finally:
            await context.close()


async def test_full_slot_error_is_shown_in_the_chosen_language(site: AppHarness) -> None:
    ko = catalog("ko")
    async with chromium() as browser, phone_page(browser) as page:
        await page.goto(f"{base_url(site)}/book/{site.office}?lang=ko")
        await wait_ready(page)
        await page.click("#service-list button >> nth=0")
        await step_shown(page, "date")
        await page.click("#date-list button >> nth=0")
        await step_shown(page, "time")
        slot = await page.get_attribute("#time-list button >> nth=0", "data-slot")
        await page.click("#time-list button >> nth=0")
        await page.fill("#phone", "090-5555-0001")
        await page.press("#phone", "Enter")
        await step_shown(page, "confirm")

        # Someone else takes the last place meanwhile.
        await site.ok("POST", site.path("/bookings"), 201, json_body={
            "service": "juminhyo", "slot": slot, "phone": "090-5555-0002"})

        await page.click("#submit")
        alert = page.locator("#alert")
        await alert.wait_for(state="visible")
        assert (await alert.text_content() or "").strip() == ko["error.slot_full"]
        assert await focus_is(page, "#alert")
        assert await page.get_attribute("html", "lang") == "ko"

        # The message follows a language change, and a way on is offered.
        await page.click("button[data-lang='vi']")
        await page.wait_for_function("() => document.documentElement.lang === 'vi'")
        assert (await alert.text_content() or "").strip() == catalog("vi")["error.slot_full"]
        await page.click("#pick-other-time")
        await step_shown(page, "time")
        assert await page.locator(f"#time-list button[data-slot='{slot}']").count() == 0


async def test_invalid_phone_from_the_api_is_shown_at_the_field(site: AppHarness) -> None:
    en = catalog("en")
    async with chromium() as browser, phone_page(browser, locale="en-GB") as page:
        await page.goto(f"{base_url(site)}/book/{site.office}?lang=en")
        await wait_ready(page)
        await page.click("#service-list button >> nth=0")
        await step_shown(page, "date")
        await page.click("#date-list button >> nth=0")
        await step_shown(page, "time")
        await page.click("#time-list button >> nth=0")
        await step_shown(page, "phone")
        await page.press("#phone", "Enter")  # empty: told at the field, no request
        assert await text_of(page, "#phone-error") == en["phone.required"]
        assert await page.get_attribute("#phone", "aria-invalid") == "true"
        assert await focus_is(page, "#phone")

        await page.fill("#phone", "12345")
        await page.press("#phone", "Enter")
        await step_shown(page, "confirm")
        await page.click("#submit")
        await step_shown(page, "phone")
        await page.wait_for_selector("#phone-error", state="visible")
        assert await text_of(page, "#phone-error") == en["error.invalid_phone"]
        assert "phone-error" in (await page.get_attribute("#phone", "aria-describedby") or "")
        assert await focus_is(page, "#phone")


async def test_full_width_digits_are_accepted(site: AppHarness) -> None:
    """A Japanese keyboard often types ０９０ー１２３４ー５６７８."""
    async with chromium() as browser, phone_page(browser) as page:
        await page.goto(f"{base_url(site)}/book/{site.office}")
        await wait_ready(page)
        await page.click("#service-list button >> nth=1")
        await step_shown(page, "date")
        await page.click("#date-list button >> nth=0")
        await step_shown(page, "time")
        await page.click("#time-list button >> nth=0")
        await page.fill("#phone", "０９０ー７７７７ー８８８８")
        await page.press("#phone", "Enter")
        await step_shown(page, "confirm")
        assert await text_of(page, "#c-phone") == "090-7777-8888"
        await page.click("#submit")
        await step_shown(page, "done")
        booking = await site.ok("GET", f"/api/v1/bookings/{await manage_token(page)}")
        assert booking["service"] == "okuyami"


async def test_back_button_goes_back_one_step(site: AppHarness) -> None:
    async with chromium() as browser, phone_page(browser) as page:
        await page.goto(f"{base_url(site)}/book/{site.office}")
        await wait_ready(page)
        await page.click("#service-list button >> nth=0")
        await step_shown(page, "date")
        await page.click("#date-list button >> nth=0")
        await step_shown(page, "time")
        await page.go_back()
        await step_shown(page, "date")
        assert await focus_is(page, "#h-date")
        await page.click("#step-date button.back")
        await step_shown(page, "service")


# --- the manage page -----------------------------------------------------------


async def test_manage_page_shows_and_cancels_the_booking(site: AppHarness) -> None:
    booked = await site.ok("POST", site.path("/bookings"), 201, json_body={
        "service": "okuyami", "phone": "090-3333-4444", "lang": "vi",
        "slot": (await first_free_slot(site, "okuyami"))})
    vi = catalog("vi")
    log = RequestLog()
    async with chromium() as browser, phone_page(browser, log=log) as page:
        await page.goto(base_url(site) + booked["manage_url"])
        await wait_ready(page)
        # The booking's language is used when nothing else was chosen.
        assert await page.get_attribute("html", "lang") == "vi"
        assert re.sub(r"\s", "", await text_of(page, "#code")) == booked["code"]
        assert await text_of(page, "#m-status") == vi["manage.status_booked"]
        assert await text_of(page, "#m-service") == "Thủ tục khi có người mất"
        assert await text_of(page, "#h-checkin") == vi["manage.checkin_title"]
        assert await audit(page) == []

        # Cancel, by keyboard, asked twice; "no" keeps it.
        await tab_to(page, "#cancel")
        await page.keyboard.press("Enter")
        assert await focus_is(page, "#cancel-question")
        await tab_to(page, "#cancel-no")
        await page.keyboard.press("Enter")
        assert await focus_is(page, "#cancel")
        assert (await site.ok("GET", f"/api/v1/bookings/{booked['token']}"))[
            "status"] == "booked"
        await page.keyboard.press("Enter")
        await tab_to(page, "#cancel-yes")
        await page.keyboard.press("Enter")
        await page.wait_for_function(
            "() => document.getElementById('m-status').dataset.status === 'cancelled'")
        assert await text_of(page, "#status-message") == vi["manage.cancelled"]
        assert await text_of(page, "#m-status") == vi["manage.status_cancelled"]
        assert await page.is_hidden("#cancel-box")
    assert (await site.ok("GET", f"/api/v1/bookings/{booked['token']}"))["status"] == "cancelled"
    assert log.foreign() == []


async def test_manage_page_unknown_booking_says_so(site: AppHarness) -> None:
    async with chromium() as browser, phone_page(browser) as page:
        await page.goto(f"{base_url(site)}/b/{site.office}.{'x' * 32}?lang=en")
        await wait_ready(page)
        assert await text_of(page, "#alert") == catalog("en")["error.unknown_booking"]
        assert await page.is_hidden("#booking")


async def first_free_slot(site: AppHarness, service: str) -> str:
    today = datetime.now(TOKYO).date()
    days = await site.ok("GET", site.path(
        f"/availability?service={service}&from={today.isoformat()}"))
    day = next(d["date"] for d in days["days"] if d["open"] and d["free"] > 0)
    slots = await site.ok("GET", site.path(f"/availability?service={service}&date={day}"))
    return str(next(s["start"] for s in slots["slots"] if s["free"] > 0))


# --- no third parties, accessibility, unknown office ------------------------------


async def test_pages_load_nothing_from_elsewhere(site: AppHarness) -> None:
    log = RequestLog()
    async with chromium() as browser, phone_page(browser, log=log) as page:
        response = await page.goto(f"{base_url(site)}/book/{site.office}")
        await wait_ready(page)
        assert response is not None
        csp = response.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp
        assert response.headers["referrer-policy"] == "no-referrer"
        await page.click("#service-list button >> nth=0")
        await step_shown(page, "date")
        await page.click("button[data-lang='zh-Hans']")
        await page.wait_for_function("() => document.documentElement.lang === 'zh-Hans'")
        manage = await page.goto(f"{base_url(site)}/b/{site.office}.{'y' * 32}")
        assert manage is not None and manage.headers["cache-control"] == "no-store"
        await wait_ready(page)
    assert log.urls, "no request was recorded"
    hosts = {re.sub(r"^https?://([^/:]+).*$", r"\1", u) for u in log.urls}
    assert hosts == {"127.0.0.1"}, log.urls
    assert not any("/i18n/" in u and not u.endswith(".json") for u in log.urls)


async def test_accessibility_basics_on_every_step(site: AppHarness) -> None:
    async with chromium() as browser, phone_page(browser) as page:
        await page.goto(f"{base_url(site)}/book/{site.office}?lang=ja-easy")
        await wait_ready(page)
        # やさしい日本語 is Japanese to a screen reader.
        assert await page.get_attribute("html", "lang") == "ja"
        assert await text_of(page, "h1") == catalog("ja-easy")["book.heading"]
        assert await page.locator("h1").count() == 1
        assert await page.locator("main").count() == 1
        assert await audit(page) == []
        # The skip link is the first stop and leads to the content.
        await page.keyboard.press("Tab")
        assert await focus_is(page, "a.skip")

        steps = [("date", "#service-list button"), ("time", "#date-list button"),
                 ("phone", "#time-list button")]
        for step, choice in steps:
            await page.click(f"{choice} >> nth=0")
            await step_shown(page, step)
            assert await focus_is(page, f"#h-{step}")
            assert await page.get_attribute(f"#h-{step}", "tabindex") == "-1"
            assert await page.get_attribute("#progress", "aria-live") == "polite"
            assert await audit(page) == [], step
        # Labelled fields; the hint is read with the field.
        assert await page.evaluate("document.getElementById('phone').labels.length") == 1
        assert await page.get_attribute("#phone", "type") == "tel"
        assert await page.get_attribute("#phone", "autocomplete") == "tel"
        assert await page.get_attribute("#phone", "aria-describedby") == "phone-hint"
        await page.fill("#phone", "090-1111-2222")
        await page.press("#phone", "Enter")
        await step_shown(page, "confirm")
        assert await audit(page) == []
        await page.click("#submit")
        await step_shown(page, "done")
        assert await focus_is(page, "#h-done")
        assert await audit(page) == []
        # Focus is visible: the focused control gets an outline.
        await tab_to(page, "#manage-link")
        outline = await page.evaluate(
            "getComputedStyle(document.activeElement).outlineStyle")
        assert outline == "solid"
        assert await page.get_attribute("#alert", "role") == "alert"


async def test_unknown_office_is_404_and_explained(site: AppHarness) -> None:
    async with chromium() as browser, phone_page(browser) as page:
        response = await page.goto(f"{base_url(site)}/book/nosuchoffice?lang=ko")
        assert response is not None and response.status == 404
        await page.wait_for_selector("#alert", state="visible")
        assert await text_of(page, "#alert") == catalog("ko")["error.unknown_office"]
        assert await page.is_hidden("#step-service")


async def test_static_files_stay_inside_their_folder(site: AppHarness) -> None:
    ok = await site.client.get("/static/checkin/i18n/book.vi.json")
    assert ok.status == 200 and ok.content_type == "application/json"
    js = await site.client.get("/static/checkin/book/book.js")
    assert js.status == 200 and js.content_type == "text/javascript"
    for path in ("/static/checkin/../booking_pages.py", "/static/checkin/%2e%2e/booking_pages.py",
                 "/static/checkin/book/", "/static/checkin/nothing.js",
                 "/static/checkin/book/../../__init__.py", "/static/checkin/i18n"):
        # Sent as written: the client must not tidy the dots away.
        response = await site.client.get(URL(path, encoded=True))
        assert response.status == 404, path


# --- catalogs ------------------------------------------------------------------------

KEY_RE = re.compile(r"""["']([a-z_]+\.[A-Za-z0-9_.-]+)["']""")


class _Keys(HTMLParser):
    """data-i18n keys of an HTML file, and any text written into it."""

    def __init__(self) -> None:
        super().__init__()
        self.keys: set[str] = set()
        self.text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "data-i18n" and value:
                self.keys.add(value)
            if name == "data-i18n-attr" and value:
                self.keys.update(p.split(":")[1].strip() for p in value.split(";") if ":" in p)
            if name in ("alt", "title", "placeholder", "aria-label") and value:
                self.text.append(f"{name}={value}")
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.text.append(data.strip())


def page_files(pattern: str) -> list[Path]:
    return sorted(path for folder in PAGE_DIRS for path in folder.glob(pattern))


def html_keys() -> dict[str, _Keys]:
    out = {}
    for path in page_files("*.html"):
        parser = _Keys()
        parser.feed(path.read_text(encoding="utf-8"))
        out[path.name] = parser
    return out


def js_keys(namespaces: set[str]) -> dict[str, set[str]]:
    out = {}
    for path in [*page_files("*.js"), COMMON / "i18n.js"]:
        found = {k for k in KEY_RE.findall(path.read_text(encoding="utf-8"))
                 if k.split(".")[0] in namespaces}
        out[str(path.relative_to(path.parent.parent))] = found
    return out


def test_every_key_used_is_in_every_catalog() -> None:
    ja = catalog("ja")
    namespaces = {k.split(".")[0] for k in ja}
    used: dict[str, set[str]] = {name: p.keys for name, p in html_keys().items()}
    used.update(js_keys(namespaces))
    assert used["book.html"] and used["manage.html"] and used["book/book.js"]
    assert used["here.html"] and used["here/here.js"]
    all_used = set().union(*used.values())
    for lang in LANGS:
        cat = catalog(lang)
        for file, keys in used.items():
            missing = sorted(keys - cat.keys())
            assert not missing, f"book.{lang}.json lacks keys used in {file}: {missing}"
        assert cat.keys() == ja.keys(), (lang, sorted(cat.keys() ^ ja.keys()))
        assert all(isinstance(v, str) and v.strip() for v in cat.values()), lang
    unused = sorted(ja.keys() - all_used)
    assert not unused, f"catalog keys no page uses: {unused}"


def test_catalog_placeholders_match() -> None:
    ja = catalog("ja")
    field = re.compile(r"\{(\w+)\}")
    for lang in LANGS:
        cat = catalog(lang)
        for key, text in ja.items():
            assert set(field.findall(cat[key])) == set(field.findall(text)), (lang, key)


def test_pages_carry_keys_not_text() -> None:
    for name, parser in html_keys().items():
        assert parser.text == [], f"{name} has text of its own: {parser.text}"
    for path in page_files("*.js"):
        source = path.read_text(encoding="utf-8")
        literals = re.findall(r'"((?:[^"\\\n]|\\.)*)"', source)
        worded = [s for s in literals if re.search(r"[^\x00-\x7f]", s)]
        assert worded == [], f"{path.name} has text in other scripts: {worded}"
        assert "t(`" not in source, f"{path.name} builds a catalog key"


def test_language_names_are_each_in_their_own_language() -> None:
    own = {code: catalog(code)[f"lang.{code}"] for code in LANGS}
    for lang in LANGS:
        cat = catalog(lang)
        assert {code: cat[f"lang.{code}"] for code in LANGS} == own, lang
