"""The lobby call display /display/{office} (displays/display_pages.py and
displays/static/display/*), driven in Debian's headless Chromium through
Playwright against the real app on 127.0.0.1 (in-process, or `madoguchi
serve` processes for the kill-and-restart test), plus checks of its
configuration endpoint and message catalogs.

The browser runs as the lobby TV does: kiosk-mode Chromium with
--autoplay-policy=no-user-gesture-required (one test runs without it and
expects the "enable sound" prompt). Its time zone is New York, so the clock
must follow the office (Tokyo), not the TV.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import io
import itertools
import json
import math
import re
import struct
import wave
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from redis.asyncio import Redis

from queue_server.auth import Tokens
from queue_server.engine import Engine
from queue_server.office_config import Office
from tests.browser import CHROMIUM, CHROMIUM_ARGS, LOCAL_HOSTS, RequestLog, audit, require_browser
from tests.conftest import ALWAYS_OPEN
from tests.servers import AppHarness, ServerFactory, app_harness, bearer

try:
    from playwright.async_api import Browser, Page, Route, async_playwright, expect
    from playwright.async_api import TimeoutError as PlaywrightTimeout
except ImportError:  # require_browser() skips (fails in CI)
    Browser = Page = Route = Any  # type: ignore[assignment,misc]
    PlaywrightTimeout = TimeoutError  # type: ignore[assignment,misc]

STATIC = Path(__file__).resolve().parent.parent / "displays" / "static"
I18N = STATIC / "i18n"
LANGS = ("ja", "en", "ko", "zh-Hans", "vi")
TOKYO = ZoneInfo("Asia/Tokyo")
OFFICE = "testoffice"
# The lobby TV: kiosk-mode Chromium may play sound without a click.
KIOSK_ARGS = ("--autoplay-policy=no-user-gesture-required",)
LANDSCAPE = {"width": 1920, "height": 1080}
PORTRAIT = {"width": 1080, "height": 1920}
ANNOUNCEMENT_URL = re.compile(r"/api/v1/offices/[^/]+/announcement\?")
WAIT_MS = 15_000


def catalog(lang: str) -> dict[str, str]:
    data = json.loads((I18N / f"display.{lang}.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def names(ja: str, en: str, ko: str, zh: str, vi: str) -> dict[str, str]:
    return {"ja": ja, "en": en, "ko": ko, "zh-Hans": zh, "vi": vi}


def display_office(office_id: str = OFFICE, **display: Any) -> Office:
    """Three services (one bookable only, not shown on the board), three
    counters; the display speaks and shows Japanese and English."""
    return Office.model_validate({
        "id": office_id,
        "hours": ALWAYS_OPEN,  # the kiosk issues the tests' tickets at any hour
        "names": names("テスト区役所", "Test Ward Office", "테스트 구청", "测试区役所",
                       "Văn phòng quận Test"),
        "services": [
            {"id": "juminhyo", "letter": "A", "expected_minutes": 5,
             "names": names("住民票・証明書", "Certificates", "주민표·증명서", "住民票・证明",
                            "Giấy chứng nhận")},
            {"id": "ido", "letter": "B", "expected_minutes": 15,
             "names": names("転入・転出", "Moving in or out", "전입·전출", "迁入・迁出",
                            "Chuyển đến / chuyển đi")},
            {"id": "okuyami", "letter": "J", "walk_in": False, "bookable": True,
             "names": names("おくやみ", "Bereavement", "사망 후 절차", "丧葬手续",
                            "Thủ tục khi có người mất")},
        ],
        "counters": [
            {"id": "1", "names": {"ja": "1番窓口", "en": "Counter 1", "ko": "1번 창구"},
             "speech": {"ja": "いちばんまどぐち"}, "services": ["juminhyo", "ido"]},
            {"id": "2", "names": {"ja": "2番窓口", "en": "Counter 2"},
             "services": ["juminhyo", "ido"]},
            {"id": "3", "names": {"ja": "3番窓口", "en": "Counter 3"}, "services": ["okuyami"]},
        ],
        "display": {"languages": ["ja", "en"], "services": ["juminhyo", "ido"],
                    "recent_calls": 8, **display},
    })


@pytest.fixture
async def site(redis: Redis, tenant: str) -> AsyncIterator[AppHarness]:
    async with app_harness(redis, tenant, display_office()) as harness:
        yield harness


def base_url(site: AppHarness) -> str:
    return str(site.client.make_url("")).rstrip("/")


async def open_counters(site: AppHarness, *counters: str) -> None:
    for counter in counters:
        await site.act(counter, "open")


# --- the browser --------------------------------------------------------------


@contextlib.asynccontextmanager
async def tv_browser(*extra: str) -> AsyncIterator[Browser]:
    """Debian's Chromium as the lobby TV runs it (kiosk autoplay) unless
    `extra` says otherwise."""
    require_browser()
    args = [*CHROMIUM_ARGS, *(extra or KIOSK_ARGS)]
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
        try:
            yield browser
        finally:
            await browser.close()


@dataclass
class Tv:
    page: Page
    log: RequestLog
    # Announcement plan requests the test answered itself (they do not reach
    # the request log's guard).
    plans: list[dict[str, list[str]]] = field(default_factory=list)
    sockets: list[str] = field(default_factory=list)  # websocket URLs opened


PlanHandler = Callable[[Route], Awaitable[None]]


@contextlib.asynccontextmanager
async def tv(browser: Browser, *, portrait: bool = False, plan: PlanHandler | None = None,
             reduced_motion: str = "no-preference") -> AsyncIterator[Tv]:
    """A fresh TV (own storage) set to New York time. `plan`: answers the
    announcement endpoint instead of the server."""
    context = await browser.new_context(
        viewport=PORTRAIT if portrait else LANDSCAPE, device_scale_factor=1, locale="en-US",
        timezone_id="America/New_York", reduced_motion=reduced_motion)
    screen = Tv(await context.new_page(), RequestLog())

    async def guard(route: Route) -> None:
        screen.log.urls.append(route.request.url)
        host = urlsplit(route.request.url).hostname
        if host in LOCAL_HOSTS or route.request.url.startswith(("data:", "blob:")):
            await route.continue_()
        else:
            await route.abort()

    await context.route("**/*", guard)
    if plan is not None:
        async def answer(route: Route) -> None:
            screen.plans.append(parse_qs(urlsplit(route.request.url).query))
            await plan(route)

        await screen.page.route(ANNOUNCEMENT_URL, answer)
    screen.page.on("console", lambda m: screen.log.console_errors.append(
        f"{m.text} ({m.location.get('url')})") if m.type == "error" else None)
    screen.page.on("pageerror", lambda e: screen.log.console_errors.append(str(e)))
    screen.page.on("websocket", lambda ws: screen.sockets.append(ws.url))
    try:
        yield screen
    finally:
        await context.close()


async def no_plan(route: Route) -> None:
    """The server before displays/announce_web.py: no such route."""
    await route.fulfill(status=404, content_type="application/json",
                        body=json.dumps({"error": {"code": "not_found", "message": "x"}}))


async def open_display(page: Page, base: str, query: str = "", lang: str | None = "ja") -> None:
    """Opens the display; `lang` pins the screen's language (else it cycles
    through the office's languages every few seconds)."""
    if lang is not None:
        query = f"{query}&lang={lang}" if query else f"?lang={lang}"
    await page.goto(f"{base}/display/{OFFICE}{query}")
    await page.wait_for_selector("body[data-ready='true']", state="attached", timeout=WAIT_MS)
    # Connected to the event stream: a call made from now on is an event the
    # page announces (one made before would only be on the board).
    await page.wait_for_selector("body[data-live='true']", state="attached", timeout=WAIT_MS)


async def called_on_screen(page: Page, number: str, counter: str) -> None:
    """The call is the large current call and in the recent list."""
    current = page.locator("#current")
    await expect(current).to_have_attribute("data-number", number, timeout=WAIT_MS)
    await expect(current).to_have_attribute("data-counter", counter)
    await expect(page.locator("#current-number")).to_have_text(number)
    await expect(page.locator(
        f"#recent-list li[data-number='{number}'][data-counter='{counter}']")).to_be_visible()


async def announce_log(page: Page) -> list[dict[str, str]]:
    entries = await page.evaluate(
        """() => [...document.querySelectorAll('#announce-log li')].map(
             (li) => ({...li.dataset, text: li.textContent}))""")
    return list(entries)


async def announced(page: Page, *numbers: str, recall: bool = False,
                    within_ms: int = WAIT_MS) -> list[dict[str, str]]:
    """Waits until each number's announcement (or recall) ended; returns the log."""
    try:
        await page.wait_for_function(
            """([numbers, recall]) => {
                 const ended = [...document.querySelectorAll(
                     `#announce-log li[data-event=end][data-recall="${recall}"]`)]
                   .map((li) => li.dataset.number);
                 return numbers.every((n) => ended.includes(n));
               }""", arg=[list(numbers), "1" if recall else "0"], timeout=within_ms)
    except PlaywrightTimeout:
        log = "\n".join(str(e) for e in await announce_log(page))
        raise AssertionError(f"{numbers} not announced in {within_ms} ms; log:\n{log}") from None
    return await announce_log(page)


def in_order_without_overlap(log: list[dict[str, str]], numbers: list[str]) -> None:
    """Each announcement runs from its start to its end with nothing of
    another in between, and they run in `numbers` order."""
    steps = [e for e in log if e["event"] != "queued"]
    starts = [e["number"] for e in steps if e["event"] == "start"]
    assert [n for n in starts if n in numbers] == numbers, starts
    current = None
    for entry in steps:
        if entry["event"] == "start":
            assert current is None, f"{entry['number']} started during {current}: {steps}"
            current = entry["number"]
        else:
            assert entry["number"] == current, f"{entry} outside its announcement: {steps}"
            if entry["event"] == "end":
                current = None
    for first, second in itertools.pairwise(numbers):
        end = next(e for e in steps if e["event"] == "end" and e["number"] == first)
        start = next(e for e in steps if e["event"] == "start" and e["number"] == second)
        assert int(start["t"]) >= int(end["t"]), (end, start)


def steps_of(log: list[dict[str, str]], number: str) -> list[dict[str, str]]:
    return [e for e in log if e["number"] == number and e["event"] != "queued"]


def tone_wav(seconds: float = 0.4) -> bytes:
    """A short, clearly audible WAV file."""
    rate = 8000
    frames = b"".join(struct.pack("<h", int(9000 * math.sin(2 * math.pi * 660 * i / rate)))
                      for i in range(int(rate * seconds)))
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)
    return out.getvalue()


async def text_of(page: Page, selector: str) -> str:
    return (await page.text_content(selector) or "").strip()


# Regions of the screen that must not overlap, and the text that must lie
# wholly inside its region (not cut off by the panel's overflow).
REGIONS = ["#office-name", "#clock-time", "#now", "#recent", "#waiting", "#checkin"]
INSIDE = [
    ("#office-name", ".top"), ("#clock-time", ".top"), ("#clock-date", ".top"),
    ("#current-number", "#now"), ("#current-counter", "#now"),
    ("#recent-list li", "#recent"), ("#waiting-body tr", "#waiting"),
    ("#checkin-code", "#checkin"), ("#checkin-qr", "#checkin"),
    ("#checkin-placeholder", "#checkin"),
]
BOXES_JS = """([regions, inside]) => {
  const box = (el) => { const r = el.getBoundingClientRect();
                        return [r.left, r.top, r.right, r.bottom]; };
  const shown = (el) => el.getClientRects().length > 0;
  const out = {regions: {}, inside: []};
  for (const s of regions) out.regions[s] = box(document.querySelector(s));
  for (const [s, panel] of inside) {
    for (const el of document.querySelectorAll(s)) {
      if (shown(el)) out.inside.push([s, box(el), box(document.querySelector(panel))]);
    }
  }
  return out;
}"""


async def laid_out(page: Page, viewport: dict[str, int]) -> None:
    """Key texts are on the screen, inside their panels, and panels do not overlap."""
    found = await page.evaluate(BOXES_JS, [REGIONS, INSIDE])
    regions = found["regions"]

    def overlap(a: list[float], b: list[float]) -> bool:
        return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]

    for name, (left, top, right, bottom) in regions.items():
        assert 0 <= left < right <= viewport["width"], (name, regions)
        assert 0 <= top < bottom <= viewport["height"], (name, regions)
    for i, a in enumerate(REGIONS):
        for b in REGIONS[i + 1:]:
            assert not overlap(regions[a], regions[b]), (a, b, regions)
    for name, inner, outer in found["inside"]:
        assert (inner[0] >= outer[0] - 1 and inner[1] >= outer[1] - 1
                and inner[2] <= outer[2] + 1 and inner[3] <= outer[3] + 1), (name, inner, outer)
    assert len(found["inside"]) >= 8, found


# --- configuration endpoint and page --------------------------------------------


async def test_config_json_is_public_and_has_no_secrets(site: AppHarness) -> None:
    config = await site.ok("GET", f"/display/{OFFICE}/config.json")
    assert set(config) == {"office", "names", "timezone", "services", "counters", "display"}
    assert config["office"] == OFFICE
    assert config["timezone"] == "Asia/Tokyo"
    assert config["names"]["en"] == "Test Ward Office"
    assert [(s["id"], s["letter"]) for s in config["services"]] == [
        ("juminhyo", "A"), ("ido", "B"), ("okuyami", "J")]
    assert set(config["services"][0]) == {"id", "letter", "names", "speech"}
    assert config["counters"][0] == {
        "id": "1", "names": {"ja": "1番窓口", "en": "Counter 1", "ko": "1번 창구"},
        "speech": {"ja": "いちばんまどぐち"}}
    assert config["display"] == {
        "languages": ["ja", "en"], "services": ["juminhyo", "ido"], "layout": "landscape",
        "theme": "dark", "recent_calls": 8, "volume": 1.0, "call_style": "arrow"}
    text = json.dumps(config)
    for secret in ("booking", "hours", "max_recalls", "token", "phone"):
        assert secret not in text, secret

    async with site.client.get(f"/display/{OFFICE}/config.json") as resp:
        assert "default-src 'none'" in resp.headers["Content-Security-Policy"]
    for bad in ("nosuchoffice", "Bad%20Id"):
        status, body = await site.request("GET", f"/display/{bad}/config.json")
        assert status == 404 and body["error"]["code"] == "unknown_office", (bad, body)

    async with site.client.get(f"/display/{OFFICE}") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/html")
        csp = resp.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp
        # The enrolment address carries the display token.
        assert resp.headers["Cache-Control"] == "no-store"
        html = await resp.text()
    assert "<script>" not in html and " style=" not in html and "http" not in html.replace(
        "http-equiv", "")
    async with site.client.get("/display/nosuchoffice") as resp:
        assert resp.status == 404
    async with site.client.get("/static/lobby/display/display.js") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/javascript")
    async with site.client.get("/static/lobby/../display_pages.py") as resp:
        assert resp.status == 404


def test_catalogs_have_every_key_the_page_uses() -> None:
    ja = catalog("ja")
    for lang in LANGS:
        assert set(catalog(lang)) == set(ja), lang
        for key, text in catalog(lang).items():
            assert text.strip(), (lang, key)
            assert set(re.findall(r"\{(\w+)\}", text)) == set(
                re.findall(r"\{(\w+)\}", ja[key])), (lang, key)
    used: set[str] = set()
    for path in (STATIC / "display").iterdir():
        source = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"""\bt\(\s*["']([\w.-]+)["']""", source))
        used |= set(re.findall(r"""["']((?:sound|announce|current|error)\.[\w-]+)["']""",
                               source))
        used |= set(re.findall(r'data-i18n="([\w.-]+)"', source))
        used |= set(re.findall(r'data-i18n-attr="[\w-]+:([\w.-]+)"', source))
    missing = used - set(ja)
    assert not missing, missing
    assert len(used) > 25, used


# --- calls, announcements, clock ---------------------------------------------------


async def test_call_shows_large_and_is_announced_with_browser_speech(site: AppHarness) -> None:
    """Before the server can plan announcements (404), the page speaks with
    the browser's voice from its own catalog; calls never overlap."""
    await open_counters(site, "1", "2")
    for _ in range(4):
        await site.issue("juminhyo", role="kiosk")
    ja, en = catalog("ja"), catalog("en")
    token = await site.token("display")
    async with tv_browser() as browser, tv(browser, plan=no_plan) as screen:
        page = screen.page
        await open_display(page, base_url(site), f"?token={token}")
        assert await text_of(page, "#office-name") == "テスト区役所"
        await expect(page.locator("#current-none")).to_be_visible()
        # Only the configured services, with their waiting counts.
        await expect(page.locator("#waiting-body tr")).to_have_count(2)
        await expect(page.locator("#waiting-body tr[data-service='juminhyo'] td.people")
                     ).to_have_text(ja["waiting.people"].format(n=4))

        await site.act("1", "call-next")
        await called_on_screen(page, "A-001", "1")
        await expect(page.locator("#current-counter")).to_have_text("1番窓口")
        size = await page.evaluate(
            "parseFloat(getComputedStyle(document.getElementById('current-number')).fontSize)")
        assert size >= 120, size  # readable across a lobby
        await expect(page.locator("#current")).to_have_class(re.compile(r"\bfresh\b"))
        await expect(page.locator("#current-sr")).to_have_text(
            ja["current.sr"].format(number="A-001", counter="1番窓口"))
        assert await page.get_attribute("#current", "aria-live") == "polite"
        await expect(page.locator("#waiting-body tr[data-service='juminhyo'] td.people")
                     ).to_have_text(ja["waiting.people"].format(n=3))

        log = await announced(page, "A-001")
        assert screen.plans[0] == {"number": ["A-001"], "counter": ["1"], "recall": ["0"]}
        steps = steps_of(log, "A-001")
        assert [e["event"] for e in steps] == ["start", "plan", "chime", "item", "item", "end"]
        assert steps[1]["source"] == "browser"
        assert steps[2]["mode"] == "synth" and steps[2]["result"] == "ok"  # Web Audio chime
        items = [e for e in steps if e["event"] == "item"]
        assert [(e["lang"], e["mode"]) for e in items] == [("ja", "speech"), ("en", "speech")]
        # Speech text is authored for the voice: the letter in kana, the
        # counter's reading.
        assert ja["announce.call"].format(letter="エー", n=1, counter="いちばんまどぐち") in items[
            0]["text"]
        assert en["announce.call"].format(letter="A", n=1, counter="Counter 1") in items[1]["text"]

        # Two quick calls: in call order, one after the other.
        await site.act("2", "call-next")
        await site.act("1", "call-next")
        await called_on_screen(page, "A-003", "1")
        await expect(page.locator("#recent-list li")).to_have_count(3)
        order = await page.eval_on_selector_all("#recent-list li", "els => els.map(e => "
                                                "e.dataset.number)")
        assert order == ["A-003", "A-002", "A-001"]
        log = await announced(page, "A-002", "A-003")
        in_order_without_overlap(log, ["A-001", "A-002", "A-003"])

        # A recall repeats the announcement, saying so, and the number goes back on top.
        await site.act("2", "recall")
        await called_on_screen(page, "A-002", "2")
        await expect(page.locator("#current-recall")).to_be_visible()
        log = await announced(page, "A-002", recall=True)
        recall = [e for e in log if e["number"] == "A-002" and e["event"] == "start"]
        assert [e["recall"] for e in recall] == ["0", "1"]
        spoken = [e["text"] for e in steps_of(log, "A-002")
                  if e["event"] == "item" and e.get("lang") == "ja"]
        assert ja["announce.recall"].format(letter="エー", n=2, counter="2番窓口") in spoken[-1]
        order = await page.eval_on_selector_all("#recent-list li", "els => els.map(e => "
                                                "e.dataset.number)")
        assert order == ["A-002", "A-003", "A-001"]

        # The clock is the office's (Tokyo), not the TV's (New York).
        now = datetime.now(TOKYO)
        shown = await text_of(page, "#clock-time")
        moments = (now, now + timedelta(minutes=1))  # the minute (or day) may turn meanwhile
        assert shown in {f"{t:%H:%M}" for t in moments}, shown
        day = await text_of(page, "#clock-date")
        assert any(f"{t.year}年{t.month}月{t.day}日" in day for t in moments), day
        await page.screenshot(path="/tmp/display_landscape.png")
        await laid_out(page, LANDSCAPE)
    assert screen.log.foreign() == []


@pytest.mark.parametrize("motion", ["no-preference", "reduce"])
async def test_new_call_highlight_is_steady_not_flashing(site: AppHarness, motion: str) -> None:
    """WCAG 2.3.1: the highlight of a new call comes on once and goes off
    once about five seconds later, fading gently (or not at all with
    prefers-reduced-motion)."""
    await open_counters(site, "1")
    await site.issue("juminhyo", role="kiosk")
    async with tv_browser() as browser, tv(browser, plan=no_plan,
                                            reduced_motion=motion) as screen:
        page = screen.page
        await open_display(page, base_url(site))
        await page.evaluate("""() => { window.highlightChanges = [];
            const current = document.getElementById('current');
            new MutationObserver(() => window.highlightChanges.push(
                [performance.now(), current.classList.contains('fresh')]))
              .observe(current, {attributes: true, attributeFilter: ['class']}); }""")
        await site.act("1", "call-next")
        await expect(page.locator("#current")).to_have_class(re.compile(r"\bfresh\b"))
        await expect(page.locator("#current")).not_to_have_class(re.compile(r"\bfresh\b"),
                                                                 timeout=WAIT_MS)
        changes = await page.evaluate("window.highlightChanges")
        states = [on for _, on in changes]
        # Other class writes may repeat a state; the state itself changes twice.
        flips = [c for i, c in enumerate(changes) if i == 0 or c[1] != changes[i - 1][1]]
        assert [on for _, on in flips] == [True, False], states
        assert flips[1][0] - flips[0][0] >= 4500, flips
        duration = await page.eval_on_selector(
            "#current", "el => parseFloat(getComputedStyle(el).transitionDuration)")
        assert duration == (0 if motion == "reduce" else 0.4), duration


async def test_server_audio_is_played_in_order(site: AppHarness) -> None:
    """The server's plan (chime, then per language an audio file or null):
    files are played with <audio>, a null falls back to speech; a burst
    plays in call order and nothing overlaps."""
    wav = tone_wav()

    async def plan(route: Route) -> None:
        query = parse_qs(urlsplit(route.request.url).query)
        number = query["number"][0]
        await route.fulfill(status=200, content_type="application/json", body=json.dumps({
            "chime": "/audio/test/chime.wav",
            "items": [
                {"lang": "ja", "text": f"受付番号 {number}", "audio": f"/audio/test/{number}.wav"},
                {"lang": "en", "text": f"Ticket {number}", "audio": None},
            ],
        }))

    await open_counters(site, "1", "2")
    for _ in range(2):
        await site.issue("juminhyo", role="kiosk")
    async with tv_browser() as browser, tv(browser, plan=plan) as screen:
        page = screen.page
        served: list[str] = []

        async def audio(route: Route) -> None:
            served.append(urlsplit(route.request.url).path)
            await route.fulfill(status=200, content_type="audio/wav", body=wav)

        await page.route(re.compile(r"/audio/test/"), audio)
        await open_display(page, base_url(site))
        await site.act("1", "call-next")
        await site.act("2", "call-next")
        await called_on_screen(page, "A-002", "2")
        log = await announced(page, "A-001", "A-002")
        in_order_without_overlap(log, ["A-001", "A-002"])
        assert [p["number"][0] for p in screen.plans] == ["A-001", "A-002"]
        for number in ("A-001", "A-002"):
            steps = steps_of(log, number)
            assert steps[1]["source"] == "server"
            assert (steps[2]["mode"], steps[2]["result"]) == ("audio", "ok")
            items = [(e["lang"], e["mode"], e["result"]) for e in steps if e["event"] == "item"]
            assert items[0] == ("ja", "audio", "ok")
            assert items[1][:2] == ("en", "speech")
            # The files really played: the next step came after the file's length.
            chime, first = steps[2], steps[3]
            assert int(first["t"]) - int(chime["t"]) >= 300, (chime, first)
        assert "/audio/test/A-001.wav" in served and "/audio/test/A-002.wav" in served
    assert screen.log.console_errors == []


async def test_real_announcement_endpoint(site: AppHarness) -> None:
    """Against the server's own announcement endpoint: its audio once
    displays/announce_web.py serves plans, the browser's voice before."""
    await open_counters(site, "1")
    await site.issue("juminhyo", role="kiosk")
    status, _ = await site.request(
        "GET", site.path("/announcement?number=A-001&counter=1&recall=0"))
    assert status in (200, 404), status
    server_plans = status == 200
    print("announcement plans from", "the server" if server_plans else "nowhere (404): "
          "the browser's fallback is tested", "; displays.announce_web",
          "present" if importlib.util.find_spec("displays.announce_web") else "absent")
    async with tv_browser() as browser, tv(browser) as screen:
        page = screen.page
        await open_display(page, base_url(site))
        await site.act("1", "call-next")
        await called_on_screen(page, "A-001", "1")
        # Server synthesis (espeak-ng) of uncached texts may take a while.
        log = await announced(page, "A-001", within_ms=60_000)
        asked = [u for u in screen.log.urls if ANNOUNCEMENT_URL.search(u)]
        assert len(asked) == 1 and "number=A-001" in asked[0] and "counter=1" in asked[0], asked
        steps = steps_of(log, "A-001")
        items = [e for e in steps if e["event"] == "item"]
        assert [e["lang"] for e in items][:1] == ["ja"]
        if server_plans:
            assert steps[1]["source"] == "server"
            assert any(e["mode"] == "audio" and e["result"] == "ok" for e in items), items
        else:
            assert steps[1]["source"] == "browser"


# --- offline, reconnect, resume --------------------------------------------------------


async def test_kill_and_restart_shows_offline_then_the_missed_call(
        redis: Redis, clean_tenant: str, servers: ServerFactory) -> None:
    engine = Engine(redis, clean_tenant)
    await engine.configure(display_office())
    for counter in ("1", "2"):
        await engine.set_counter_state(OFFICE, counter, "open")
    tokens = Tokens(redis, clean_tenant)
    staff = bearer((await tokens.create("staff", OFFICE))[0])
    kiosk = bearer((await tokens.create("kiosk", OFFICE))[0])
    one = await servers("one")

    async with aiohttp.ClientSession() as http:
        async def post(base: str, path: str, headers: dict[str, str], body: Any,
                       expect_status: int) -> Any:
            async with http.post(f"{base}/api/v1/offices/{OFFICE}{path}", json=body,
                                 headers=headers) as resp:
                assert resp.status == expect_status, await resp.text()
                return await resp.json()

        for _ in range(3):
            await post(one.base, "/tickets", kiosk, {"service": "juminhyo"}, 201)
        async with tv_browser() as browser, tv(browser, plan=no_plan) as screen:
            page = screen.page
            await open_display(page, one.base)
            await post(one.base, "/counters/1/call-next", staff, None, 200)
            await called_on_screen(page, "A-001", "1")
            await announced(page, "A-001")

            await one.kill()  # as a crash would
            await expect(page.locator("#offline")).to_be_visible(timeout=WAIT_MS)
            assert await page.get_attribute("body", "data-online") == "false"
            assert catalog("ja")["offline.banner"] in await text_of(page, "#offline")
            # The last board stays on the screen.
            await expect(page.locator("#current")).to_have_attribute("data-number", "A-001")
            await page.screenshot(path="/tmp/display_offline.png")

            # A call made while this display's server is down (through another process).
            two = await servers("two")
            await post(two.base, "/counters/2/call-next", staff, None, 200)
            await one.start()  # same port: the page reconnects by itself

            await expect(page.locator("#offline")).to_be_hidden(timeout=45_000)
            await called_on_screen(page, "A-002", "2")
            await expect(page.locator("#recent-list li[data-number='A-001']")).to_be_visible()
            # Called a moment ago: announced after the reconnect, too.
            await announced(page, "A-002")
            # It came as a replayed event: the page resumed with ?since=.
            assert any("/display?since=" in u for u in screen.sockets), screen.sockets
            # The server had no plan for A-001 (404), so the page did not ask again.
            assert [p["number"][0] for p in screen.plans] == ["A-001"]


async def test_resync_reads_the_board_and_reconnects_with_since(site: AppHarness) -> None:
    """The office stream is played by the test: a resync (events trimmed
    while away) makes the page read the board, show and announce the call
    it missed; a dropped socket comes back with ?since=<last event id>."""
    await open_counters(site, "1")
    await site.issue("juminhyo", role="kiosk")
    sockets: list[Any] = []
    reconnected = asyncio.Event()
    hello = await site.status()

    def stream(ws: Any) -> None:  # the server side of the page's socket
        sockets.append(ws)
        if len(sockets) > 1:
            reconnected.set()
        if "since=" not in ws.url:
            ws.send(json.dumps({"type": "hello", "status": hello}))

    async with tv_browser() as browser, tv(browser, plan=no_plan) as screen:
        page = screen.page
        await page.route_web_socket(re.compile(r"/ws/offices/"), stream)
        await open_display(page, base_url(site))
        await expect(page.locator("#current-none")).to_be_visible()
        await site.act("1", "call-next")  # its event never reaches the page
        await page.wait_for_function("() => document.body.dataset.online === 'true'")
        sockets[0].send(json.dumps({"type": "resync"}))
        await called_on_screen(page, "A-001", "1")
        await announced(page, "A-001")

        event = {"id": "1999999999999-0", "type": "ticket.issued", "office": OFFICE,
                 "at": datetime.now(TOKYO).isoformat(), "ticket": {"number": "A-002",
                                                                   "service": "juminhyo"}}
        sockets[0].send(json.dumps(event))
        await sockets[0].close()
        await asyncio.wait_for(reconnected.wait(), WAIT_MS / 1000)
        await expect(page.locator("body")).to_have_attribute("data-online", "true")
        assert sockets[1].url.endswith("/display?since=1999999999999-0"), sockets[1].url


# --- enrolment and the check-in code ---------------------------------------------------


async def test_enrolment_token_leaves_the_address_and_shows_the_code(
        site: AppHarness) -> None:
    token = await site.token("display")
    code = await site.ok("GET", site.path("/checkin-code"), role="display")
    async with tv_browser() as browser:
        async with tv(browser) as screen:
            page = screen.page
            await open_display(page, base_url(site), f"?token={token}")
            assert "token" not in page.url
            assert await page.evaluate("location.search") == "?lang=ja"  # the rest stays
            await expect(page.locator("#checkin-code")).to_have_text(re.compile(r"^\d{4}$"))
            # The code rotates; it is the one the API gives now (or the next).
            shown = await text_of(page, "#checkin-code")
            if shown != code["code"]:
                code = await site.ok("GET", site.path("/checkin-code"), role="display")
                assert shown == code["code"]
            await expect(page.locator("#checkin-placeholder")).to_be_hidden()
            if code.get("qr_svg"):
                await expect(page.locator("#checkin-qr")).to_be_visible()
                src = await page.get_attribute("#checkin-qr", "src")
                assert src and src.startswith("data:image/svg+xml"), src
            # Remembered: the next start needs no token in the address.
            await open_display(page, base_url(site))
            await expect(page.locator("#checkin-code")).to_have_text(re.compile(r"^\d{4}$"))
            assert screen.log.console_errors == []
        # Another TV, never enrolled: the public board, and a placeholder.
        async with tv(browser) as screen:
            await open_display(screen.page, base_url(site))
            await expect(screen.page.locator("#checkin-placeholder")).to_have_text(
                catalog("ja")["checkin.placeholder"])
            await expect(screen.page.locator("#checkin-live")).to_be_hidden()
            asked = [u for u in screen.log.urls if "/checkin-code" in u]
            assert asked == []


async def test_checkin_code_refreshes_and_qr_is_an_inert_image(site: AppHarness) -> None:
    token = await site.token("display")
    codes = iter(["1111", "2222", "3333"])
    # An SVG that would run script if it were put into the page as markup.
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" onload="window.owned=1">'
           '<script>window.owned=2</script><rect width="10" height="10" fill="#000"/></svg>')

    async def checkin_code(route: Route) -> None:
        assert route.request.headers.get("authorization") == f"Bearer {token}"
        now = datetime.now().timestamp()
        await route.fulfill(status=200, content_type="application/json", body=json.dumps({
            "office": OFFICE, "code": next(codes), "changes_at": now + 1.0,
            "url": "http://127.0.0.1/x", "qr_svg": svg}))

    async with tv_browser() as browser, tv(browser) as screen:
        page = screen.page
        await page.route(re.compile(r"/checkin-code$"), checkin_code)
        await open_display(page, base_url(site), f"?token={token}")
        await expect(page.locator("#checkin-code")).to_have_text("1111")
        await expect(page.locator("#checkin-qr")).to_be_visible()
        assert await page.get_attribute("body", "data-checkin") == "qr"
        # Refreshed when the code changes (changes_at), without a reload.
        await expect(page.locator("#checkin-code")).to_have_text("2222", timeout=WAIT_MS)
        assert await page.evaluate("window.owned === undefined")
        assert await page.locator("#checkin svg").count() == 0
        alt = await page.get_attribute("#checkin-qr", "alt")
        assert alt == catalog("ja")["checkin.qr_alt"]


# --- sound controls ----------------------------------------------------------------------


async def test_keyboard_sound_toggle_is_remembered_and_mutes(
        redis: Redis, tenant: str) -> None:
    """M cycles normal → quiet → off; quiet plays at 30 % of the office's
    volume, off plays nothing; the choice survives a reload."""
    ja = catalog("ja")
    async with app_harness(redis, tenant, display_office(volume=0.5)) as site:
        await open_counters(site, "1")
        for _ in range(2):
            await site.issue("juminhyo", role="kiosk")
        async with tv_browser() as browser, tv(browser, plan=no_plan) as screen:
            page = screen.page
            await open_display(page, base_url(site))
            assert await page.get_attribute("body", "data-sound") == "on"
            await expect(page.locator("#sound-state")).to_have_text(ja["sound.on"])
            assert await page.get_attribute("#sound-toggle", "aria-keyshortcuts") == "M"
            await page.keyboard.press("m")
            await expect(page.locator("body")).to_have_attribute("data-sound", "quiet")
            await expect(page.locator("#sound-state")).to_have_text(ja["sound.quiet"])
            await site.act("1", "call-next")
            log = await announced(page, "A-001")
            chime = next(e for e in steps_of(log, "A-001") if e["event"] == "chime")
            assert float(chime["level"]) == pytest.approx(0.5 * 0.3)

            await page.keyboard.press("M")
            await expect(page.locator("body")).to_have_attribute("data-sound", "off")
            await page.reload()
            await page.wait_for_selector("body[data-ready='true']", state="attached")
            assert await page.get_attribute("body", "data-sound") == "off"
            await expect(page.locator("#sound-state")).to_have_text(ja["sound.off"])
            plans = len(screen.plans)
            await site.act("1", "call-next")
            await called_on_screen(page, "A-002", "1")
            log = await announced(page, "A-002")
            assert [(e["event"], e.get("result")) for e in steps_of(log, "A-002")] == [
                ("start", None), ("end", "muted")]
            assert len(screen.plans) == plans  # nothing asked, nothing played
            await page.keyboard.press("m")
            await expect(page.locator("body")).to_have_attribute("data-sound", "on")


async def test_config_change_applies_without_reload(site: AppHarness) -> None:
    """A manager changes the display options: the TV follows (config.changed)."""
    await open_counters(site, "2")
    await site.issue("ido", role="kiosk")
    async with tv_browser() as browser, tv(browser, plan=no_plan) as screen:
        page = screen.page
        await open_display(page, base_url(site))
        assert await page.get_attribute("body", "data-theme") == "dark"
        await site.act("2", "call-next")
        await called_on_screen(page, "B-001", "2")
        await site.engine.configure(display_office(theme="light", call_style="stacked",
                                                   services=["ido"]))
        await expect(page.locator("body")).to_have_attribute("data-theme", "light",
                                                             timeout=WAIT_MS)
        await expect(page.locator("body")).to_have_attribute("data-call-style", "stacked")
        await expect(page.locator("#waiting-body tr")).to_have_count(1)
        assert await page.get_attribute("#waiting-body tr", "data-service") == "ido"
        await expect(page.locator(".call-arrow")).to_be_hidden()  # number above counter
        await laid_out(page, LANDSCAPE)
        await page.screenshot(path="/tmp/display_light_stacked.png")


async def test_refused_autoplay_asks_once_for_a_click(site: AppHarness) -> None:
    """A browser that is not in kiosk mode refuses sound until a click."""
    await open_counters(site, "1")
    await site.issue("juminhyo", role="kiosk")
    async with (tv_browser("--autoplay-policy=document-user-activation-required") as browser,
                tv(browser, plan=no_plan) as screen):
        page = screen.page
        await open_display(page, base_url(site))
        overlay = page.locator("#sound-overlay")
        await expect(overlay).to_be_visible()
        await expect(page.locator("#sound-enable")).to_be_focused()
        await expect(page.locator("#sound-enable")).to_have_text(catalog("ja")["sound.enable"])
        await page.click("#sound-enable")
        await expect(overlay).to_be_hidden()
        # Focus moves to the sound control, not to the page.
        await expect(page.locator("#sound-toggle")).to_be_focused()
        await site.act("1", "call-next")
        log = await announced(page, "A-001")
        chime = next(e for e in steps_of(log, "A-001") if e["event"] == "chime")
        assert chime["result"] == "ok", chime
        await expect(overlay).to_be_hidden()


# --- layout, accessibility, contrast -----------------------------------------------------


def luminance(rgb: tuple[float, float, float]) -> float:
    def channel(v: float) -> float:
        v /= 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(fg: str, bg: str) -> float:
    def parse(css: str) -> tuple[float, float, float]:
        m = re.fullmatch(r"rgba?\(([\d.]+), ([\d.]+), ([\d.]+)(?:, ([\d.]+))?\)", css)
        assert m is not None, f"not an rgb() colour: {css}"
        assert m.group(4) is None or float(m.group(4)) == 1, f"not opaque: {css}"
        return float(m.group(1)), float(m.group(2)), float(m.group(3))

    hi, lo = sorted((luminance(parse(fg)), luminance(parse(bg))), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


# (text element, element whose background it sits on, minimum ratio)
CONTRAST_PAIRS = [
    ("#office-name", "body", 7.0),
    ("#clock-time", "body", 7.0),
    ("#clock-date", "body", 4.5),
    ("#h-now", "#now", 4.5),
    ("#current-number", "#now", 7.0),
    ("#current-counter", "#now", 7.0),
    ("#recent-list li .recent-number", "#recent", 7.0),
    ("#recent-list li .recent-counter", "#recent", 7.0),
    ("#waiting-body th .service-name", "#waiting", 4.5),
    ("#waiting-body td.people", "#waiting", 4.5),
    ("#waiting-body .letter", "#waiting-body .letter", 4.5),
    ("#checkin-placeholder", "#checkin", 4.5),
    ("#sound-state", "#sound-toggle", 4.5),
    ("#offline p", "#offline", 4.5),
]
FRESH_PAIRS = [
    ("#current-number", "#current", 7.0),
    ("#current-counter", "#current", 7.0),
    ("#recent-list li.fresh .recent-number", "#recent-list li.fresh", 7.0),
]


COLOURS_JS = """(pairs) => {
  const fresh = document.getElementById('current').classList.contains('fresh');
  return {fresh, pairs: pairs.map(([text, under]) => [
    getComputedStyle(document.querySelector(text)).color,
    getComputedStyle(document.querySelector(under)).backgroundColor])};
}"""


async def colours(page: Page, pairs: list[tuple[str, str, float]]
                  ) -> tuple[bool, list[tuple[str, float, float]]]:
    """Whether the new-call highlight is on, and the contrast of each pair,
    all read at one moment."""
    found = await page.evaluate(COLOURS_JS, [[text, under] for text, under, _ in pairs])
    return found["fresh"], [(f"{text} on {under}", contrast(fg, bg), need)
                            for (text, under, need), (fg, bg) in zip(pairs, found["pairs"],
                                                                     strict=True)]


@pytest.mark.parametrize("theme", ["dark", "light"])
async def test_theme_contrast(site: AppHarness, theme: str) -> None:
    await open_counters(site, "1")
    await site.issue("juminhyo", role="kiosk")
    async with tv_browser() as browser, tv(browser, plan=no_plan,
                                            reduced_motion="reduce") as screen:
        page = screen.page
        await open_display(page, base_url(site), f"?theme={theme}")
        assert await page.get_attribute("body", "data-theme") == theme
        await site.act("1", "call-next")
        await called_on_screen(page, "A-001", "1")
        # While the new call is highlighted (a steady colour, no transition
        # with reduced motion) ...
        await expect(page.locator("#current")).to_have_class(re.compile(r"\bfresh\b"))
        highlighted, fresh = await colours(page, FRESH_PAIRS)
        assert highlighted
        # ... and after it.
        await expect(page.locator("#current")).not_to_have_class(re.compile(r"\bfresh\b"),
                                                                 timeout=WAIT_MS)
        highlighted, steady = await colours(page, CONTRAST_PAIRS)
        assert not highlighted
        for name, ratio, need in fresh + steady:
            assert ratio >= need, f"{theme}: {name} {ratio:.2f} < {need}"
        print(theme, {name: round(ratio, 1) for name, ratio, _ in fresh + steady})
        assert await audit(page) == []


async def test_portrait_layout_no_overlap_no_errors_nothing_foreign(site: AppHarness) -> None:
    async def plan(route: Route) -> None:  # a server plan without audio files
        await route.fulfill(status=200, content_type="application/json", body=json.dumps(
            {"chime": None, "items": [{"lang": "ja", "text": "テスト", "audio": None}]}))

    await open_counters(site, "1", "2")
    for _ in range(9):
        await site.issue("juminhyo", role="kiosk")
    token = await site.token("display")
    async with tv_browser() as browser, tv(browser, portrait=True, plan=plan) as screen:
        page = screen.page
        await open_display(page, base_url(site), f"?layout=portrait&token={token}", lang=None)
        assert await page.get_attribute("body", "data-layout") == "portrait"
        for _ in range(9):
            await site.act("1", "call-next")
        await called_on_screen(page, "A-009", "1")
        await expect(page.locator("#recent-list li")).to_have_count(8)  # display.recent_calls
        await expect(page.locator("#checkin-code")).to_have_text(re.compile(r"^\d{4}$"))
        await announced(page, "A-009", within_ms=60_000)
        await laid_out(page, PORTRAIT)
        # The screen's texts cycle through the office's languages.
        en = catalog("en")
        await expect(page.locator("html")).to_have_attribute("lang", "en", timeout=WAIT_MS)
        await expect(page.locator("#h-now")).to_have_text(en["current.title"])
        await expect(page.locator("#current-counter")).to_have_text("Counter 1")
        await expect(page.locator("#office-name")).to_have_text("Test Ward Office")
        await laid_out(page, PORTRAIT)
        await page.screenshot(path="/tmp/display_portrait_en.png")
        await expect(page.locator("html")).to_have_attribute("lang", "ja", timeout=WAIT_MS)
        await expect(page.locator("#current-counter")).to_have_text("1番窓口")
        await page.screenshot(path="/tmp/display_portrait.png")
    assert screen.log.foreign() == []
    assert screen.log.console_errors == []
