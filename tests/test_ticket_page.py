"""The smartphone ticket page /t/{ticket_id} (displays/ticket_pages.py and
displays/static/ticket/*), driven in Debian's headless Chromium through
Playwright against the real app on 127.0.0.1 while staff act through the
API; plus checks of its message catalogs and headers.

Screenshots (phone size) are written to /tmp/ticket_*.png for a human look.
No sleeps: the tests wait for what the page shows."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from yarl import URL

from displays.webpush import push_key
from queue_server.context import CONTEXT
from queue_server.office_config import Office
from queue_server.websockets import OPEN_SOCKETS
from tests.browser import RequestLog, audit, chromium, focus_is, phone_page, tab_to, wait_ready
from tests.conftest import ManualClock
from tests.fake_push import FakePushService, b64url_decode
from tests.servers import AppHarness, app_harness

STATIC = Path(__file__).resolve().parent.parent / "displays" / "static"
TICKET = STATIC / "ticket"
I18N = STATIC / "i18n"
LANGS = ("ja", "en", "ko", "zh-Hans", "vi", "ja-easy")
SHOTS = Path("/tmp")


def catalog(lang: str) -> dict[str, str]:
    data = json.loads((I18N / f"ticket.{lang}.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def names(ja: str, en: str, ko: str, zh: str, vi: str) -> dict[str, str]:
    return {"ja": ja, "en": en, "ko": ko, "zh-Hans": zh, "vi": vi}


def ticket_office(office_id: str = "testoffice") -> Office:
    return Office.model_validate({
        "id": office_id,
        "names": names("テスト区役所", "Test Ward Office", "테스트 구청", "测试区役所",
                       "Văn phòng quận Test"),
        "queue": {"max_recalls": 1, "rejoin_minutes": 10},
        "services": [
            {"id": "juminhyo", "letter": "A", "expected_minutes": 5,
             "names": names("住民票の写し", "Residence record", "주민표", "住民票",
                            "Phiếu cư trú")},
            {"id": "zeikin", "letter": "B", "expected_minutes": 10,
             "names": names("税の証明", "Tax certificate", "세금 증명", "税务证明",
                            "Giấy chứng nhận thuế")},
        ],
        "counters": [
            {"id": "1", "names": names("1番窓口", "Counter 1", "1번 창구", "1号窗口", "Quầy 1"),
             "services": ["juminhyo", "zeikin"]},
            {"id": "2", "names": names("2番窓口", "Counter 2", "2번 창구", "2号窗口", "Quầy 2"),
             "services": ["zeikin"]},
        ],
    })


@pytest.fixture
async def site(redis: Redis, tenant: str, clock: ManualClock,
               monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[AppHarness]:
    """The app with the test office; its clock is a weekday morning (the
    office is open), whatever the time of the test run."""
    monkeypatch.setenv("MADOGUCHI_PUSH_HOSTS", "127.0.0.1")  # the fake push service
    async with app_harness(redis, tenant, ticket_office(), clock=clock) as harness:
        yield harness


def base_url(site: AppHarness) -> str:
    return str(site.client.make_url("")).rstrip("/")


def page_url(site: AppHarness, ticket_id: str, lang: str | None = None) -> str:
    return f"{base_url(site)}/t/{ticket_id}" + (f"?lang={lang}" if lang else "")


async def text_of(page: Any, selector: str) -> str:
    return (await page.text_content(selector) or "").strip()


async def shows_state(page: Any, state: str) -> None:
    await page.wait_for_selector(f"#ticket[data-state='{state}']", state="visible",
                                 timeout=10_000)


# Records navigator.vibrate (the headless phone has no motor).
RECORD_VIBRATION = """
window.__vibrations = [];
Object.defineProperty(Navigator.prototype, "vibrate", {
  configurable: true,
  value: function (pattern) { window.__vibrations.push(pattern); return true; },
});
"""

# Boxes of the key texts: each visible, inside the screen's width, none
# overlapping another.
LAYOUT_JS = """
(selectors) => {
  const out = [];
  const boxes = [];
  for (const s of selectors) {
    const el = document.querySelector(s);
    if (!el) { out.push(s + " missing"); continue; }
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) out.push(s + " not visible");
    if (r.left < 0 || r.right > document.documentElement.clientWidth + 0.5) {
      out.push(`${s} outside the screen: ${r.left}..${r.right}`);
    }
    if (el.scrollWidth > el.clientWidth + 1) out.push(s + " text is cut off");
    boxes.push([s, r]);
  }
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const [a, ra] = boxes[i];
      const [b, rb] = boxes[j];
      if (ra.left < rb.right && rb.left < ra.right && ra.top < rb.bottom && rb.top < ra.bottom) {
        out.push(a + " overlaps " + b);
      }
    }
  }
  if (document.documentElement.scrollWidth > document.documentElement.clientWidth) {
    out.push("the page scrolls sideways");
  }
  return out;
}
"""


async def layout_problems(page: Any, *selectors: str) -> list[str]:
    return list(await page.evaluate(LAYOUT_JS, list(selectors)))


async def saved(page: Any) -> list[dict[str, Any]]:
    raw = await page.evaluate("() => localStorage.getItem('madoguchi.saved')")
    return json.loads(raw) if raw else []


# --- the ticket's life --------------------------------------------------------------


async def test_page_follows_the_ticket_from_waiting_to_called_to_done(
        site: AppHarness, clock: ManualClock) -> None:
    ja = catalog("ja")
    await site.act("1", "open")
    ahead = await site.issue("juminhyo", lang="ja")
    clock.advance(60)
    ticket = await site.issue("juminhyo", lang="ja")
    log = RequestLog()
    async with chromium() as browser, phone_page(browser, log=log) as page:
        await page.add_init_script(RECORD_VIBRATION)
        response = await page.goto(page_url(site, ticket["id"]))
        assert response is not None and response.status == 200
        assert response.headers["cache-control"] == "no-store"
        assert "noindex" in response.headers["x-robots-tag"]
        await wait_ready(page)
        await shows_state(page, "waiting")
        assert await text_of(page, "#number") == ticket["number"]
        assert await text_of(page, "#service") == "住民票の写し"
        assert await text_of(page, "#state") == ja["state.waiting"]
        assert await text_of(page, "#ahead") == "1人"
        assert re.fullmatch(r"約\d+分", await text_of(page, "#wait"))
        assert await text_of(page, "#office-name") == "テスト区役所"
        assert await page.title() == f"受付番号 {ticket['number']}"
        assert ja["state_text.waiting"] in await text_of(page, "#status")
        assert await page.is_hidden("#called")
        assert await audit(page) == []
        # Saved for the lobby check-in page on this phone.
        [entry] = await saved(page)
        assert {k: entry[k] for k in ("kind", "office", "id", "number")} == {
            "kind": "ticket", "office": site.office, "id": ticket["id"],
            "number": ticket["number"]}

        # The one tap browsers need before they make a sound.
        await page.click("#alerts-on")
        await page.wait_for_selector("#alerts-state", state="visible")
        assert await page.get_attribute("body", "data-sound") == "on"
        await page.screenshot(path=str(SHOTS / "ticket_waiting_ja.png"), full_page=True)

        # Someone ahead is called: one fewer ahead.
        assert (await site.act("1", "call-next"))["id"] == ahead["id"]
        await page.wait_for_function(
            "() => document.getElementById('ahead').textContent.startsWith('0人')")
        # This ticket is called: the counter very large, sound and vibration.
        await site.act("1", "finish")
        assert (await site.act("1", "call-next"))["id"] == ticket["id"]
        await shows_state(page, "called")
        assert await page.is_visible("#called")
        assert await text_of(page, "#counter") == "1番窓口"
        size = await page.evaluate(
            "() => parseFloat(getComputedStyle(document.getElementById('counter')).fontSize)")
        assert size >= 48
        assert await page.get_attribute("body", "data-calls") == "1"
        vibrations = await page.evaluate("() => window.__vibrations")
        assert [400, 200, 400, 200, 400] in vibrations
        assert await text_of(page, "#announce") == ja["called.announce"].format(
            number=ticket["number"], counter="1番窓口")
        assert await text_of(page, "#state") == ja["state.called"]
        assert await page.is_hidden("#cancel-box")  # the clerk has the number now
        assert await layout_problems(page, "#counter", "#number", "#called-after",
                                     ".called-title", "#state") == []
        assert await audit(page) == []
        await page.screenshot(path=str(SHOTS / "ticket_called_ja.png"), full_page=True)

        # A recall rings again and says so.
        await site.act("1", "recall")
        await page.wait_for_selector("#called-again", state="visible")
        assert await page.get_attribute("body", "data-calls") == "2"

        await site.act("1", "start")
        await shows_state(page, "serving")
        assert "1番窓口" in await text_of(page, "#status")
        assert await page.is_hidden("#cancel-box")
        await site.act("1", "finish")
        await shows_state(page, "done")
        assert await text_of(page, "#state") == ja["state.done"]
        assert ja["state_text.done"] in await text_of(page, "#status")
        assert await page.is_hidden("#cancel-box")
        assert await page.is_hidden("#alerts")
        assert await saved(page) == []  # a finished ticket is of no use to check-in
        await page.wait_for_selector("body[data-live='ended']", state="attached")
        await page.screenshot(path=str(SHOTS / "ticket_done_ja.png"), full_page=True)
    assert log.foreign() == []
    assert log.console_errors == []


async def test_saved_list_is_shared_with_the_booking_pages(site: AppHarness) -> None:
    ticket = await site.issue("juminhyo")
    seed = """(fresh) => {
        const now = Date.now();
        const ago = (h) => new Date(now - h * 3600000).toISOString();
        const list = [
            "junk", {kind: "other", office: "x"},
            {kind: "booking", office: "testoffice", token: "t.future", service: "juminhyo",
             slot_start: new Date(now + 5 * 86400000).toISOString(), saved_at: ago(72)},
            {kind: "ticket", office: "testoffice", id: "testoffice.old", number: "A-900",
             saved_at: ago(72)},
        ];
        for (let i = 0; i < fresh; i++) {
            list.push({kind: "ticket", office: "testoffice", id: "testoffice.n" + i,
                       number: "B-" + i, saved_at: now - (i + 1) * 60000});
        }
        localStorage.setItem("madoguchi.saved", JSON.stringify(list));
    }"""
    async with chromium() as browser, phone_page(browser) as page:
        await page.goto(page_url(site, ticket["id"]))
        await wait_ready(page)
        await page.evaluate(seed, 5)
        await page.reload()
        await wait_ready(page)
        entries = await saved(page)
        assert entries[0]["id"] == ticket["id"]  # newest first
        assert entries[0]["saved_at"].endswith("Z")
        ids = [e.get("id") or e.get("token") for e in entries]
        # A booking for a later day stays; a ticket from days ago and junk go.
        assert ids == [ticket["id"], *(f"testoffice.n{i}" for i in range(5)), "t.future"]

        await page.evaluate(seed, 12)
        await page.reload()
        await wait_ready(page)
        ids = [e.get("id") or e.get("token") for e in await saved(page)]
        assert ids == [ticket["id"], *(f"testoffice.n{i}" for i in range(9))]  # ten at most


async def test_page_reconnects_and_shows_a_call_made_while_it_was_cut_off(
        site: AppHarness) -> None:
    await site.act("1", "open")
    ticket = await site.issue("juminhyo")
    log = RequestLog()
    async with chromium() as browser, phone_page(browser, log=log) as page:
        await page.goto(page_url(site, ticket["id"]))
        await wait_ready(page)
        await page.wait_for_selector("body[data-live='open']", state="attached")
        # The server drops every socket (as a restart would).
        for ws in list(site.app[OPEN_SOCKETS]):
            await ws.close()
        await page.wait_for_selector("body[data-live='down']", state="attached")
        await site.act("1", "call-next")
        await shows_state(page, "called")
        await page.wait_for_selector("body[data-live='open']", state="attached")
        assert await text_of(page, "#counter") == "1番窓口"
    assert log.console_errors == []


async def test_language_switch(site: AppHarness) -> None:
    await site.act("1", "open")
    ticket = await site.issue("juminhyo", lang="ja")
    await site.act("1", "call-next")
    counters = {"ja": "1番窓口", "en": "Counter 1", "ko": "1번 창구", "zh-Hans": "1号窗口",
                "vi": "Quầy 1", "ja-easy": "1番窓口"}
    services = {"ja": "住民票の写し", "en": "Residence record", "ko": "주민표",
                "zh-Hans": "住民票", "vi": "Phiếu cư trú", "ja-easy": "住民票の写し"}
    html_lang = {"ja-easy": "ja"}
    log = RequestLog()
    async with chromium() as browser, phone_page(browser, locale="en-US", log=log) as page:
        await page.goto(page_url(site, ticket["id"]))
        await wait_ready(page)
        # The ticket's language (chosen at the kiosk) wins over the browser's.
        assert await page.get_attribute("html", "lang") == "ja"
        for lang in ("en", "ko", "zh-Hans", "vi", "ja-easy", "ja"):
            texts = catalog(lang)
            await page.click(f"button[data-lang='{lang}']")
            await page.wait_for_function(
                "(t) => document.getElementById('h-ticket').textContent === t",
                arg=texts["ticket.heading"])
            assert await page.get_attribute("html", "lang") == html_lang.get(lang, lang)
            assert await text_of(page, "#state") == texts["state.called"]
            assert await text_of(page, ".called-title") == texts["called.title"]
            assert await text_of(page, "#counter") == counters[lang]
            assert await text_of(page, "#service") == services[lang]
            assert await page.get_attribute(f"button[data-lang='{lang}']",
                                            "aria-pressed") == "true"
            assert page.url.endswith(f"?lang={lang}")
            if lang == "ko":
                await page.screenshot(path=str(SHOTS / "ticket_called_ko.png"), full_page=True)
        # The choice is remembered for the next visit.
        await page.click("button[data-lang='vi']")
        await page.wait_for_function("() => document.documentElement.lang === 'vi'")
        await page.goto(page_url(site, ticket["id"]))
        await wait_ready(page)
        assert await text_of(page, "#h-ticket") == catalog("vi")["ticket.heading"]
    assert log.console_errors == []


async def test_cancel_asks_first_and_works_by_keyboard(site: AppHarness) -> None:
    en = catalog("en")
    ticket = await site.issue("juminhyo", lang="en")
    async with chromium() as browser, phone_page(browser) as page:
        await page.goto(page_url(site, ticket["id"]))
        await wait_ready(page)
        await tab_to(page, "#cancel")
        await page.keyboard.press("Enter")
        assert await focus_is(page, "#cancel-question")
        assert await text_of(page, "#cancel-question") == en["cancel.question"].format(
            number=ticket["number"])
        assert await audit(page) == []
        await page.screenshot(path=str(SHOTS / "ticket_cancel_en.png"), full_page=True)
        await tab_to(page, "#cancel-no")
        await page.keyboard.press("Enter")
        assert await focus_is(page, "#cancel")
        assert (await site.ok("GET", f"/api/v1/tickets/{ticket['id']}"))["state"] == "waiting"

        await page.keyboard.press("Enter")
        await tab_to(page, "#cancel-yes")
        await page.keyboard.press("Enter")
        await shows_state(page, "cancelled")
        assert await text_of(page, "#status") == en["cancel.done"]
        assert await text_of(page, "#state") == en["state.cancelled"]
        assert await page.is_hidden("#cancel-box")
        assert await focus_is(page, "#h-ticket")
    assert (await site.ok("GET", f"/api/v1/tickets/{ticket['id']}"))["state"] == "cancelled"


async def test_unknown_or_malformed_ticket_gets_a_friendly_404(site: AppHarness) -> None:
    log = RequestLog()
    async with chromium() as browser, phone_page(browser, locale="en-GB", log=log) as page:
        for tid in (f"{site.office}.{'A' * 22}", f"nosuchoffice.{'B' * 22}", "garbage",
                    "%3Cscript%3E"):
            response = await page.goto(f"{base_url(site)}/t/{tid}")
            assert response is not None and response.status == 404, tid
            assert response.headers["content-type"].startswith("text/html")
            assert response.headers["cache-control"] == "no-store"
            await wait_ready(page)
            assert await text_of(page, "#h-not-found") == catalog("en")["notfound.title"]
            assert await page.is_hidden("#ticket")
            assert await page.title() == catalog("en")["notfound.page_title"]
        assert await audit(page) == []
        await page.screenshot(path=str(SHOTS / "ticket_notfound_en.png"), full_page=True)
        # In the citizen's language: Korean asked for.
        await page.goto(f"{base_url(site)}/t/{site.office}.{'C' * 22}?lang=ko")
        await wait_ready(page)
        assert await text_of(page, "#h-not-found") == catalog("ko")["notfound.title"]
    # Chrome reports the document's own 404 status on the console; nothing else
    # may be there, and the page did not ask the API again.
    assert {e for e in log.console_errors} <= {
        "Failed to load resource: the server responded with a status of 404 (Not Found)"}
    assert not [u for u in log.urls if "/api/v1/tickets/" in u]
    assert log.foreign() == []
    # No stack trace or server detail in the page.
    async with site.client.get(f"/t/{site.office}.{'A' * 22}") as resp:
        body = await resp.text()
        assert resp.status == 404 and "Traceback" not in body and "<!doctype html>" in body


async def test_remote_ticket_shows_when_to_come_back_and_arrives_with_the_lobby_code(
        site: AppHarness, clock: ManualClock) -> None:
    ja = catalog("ja")
    await site.act("1", "open")
    for _ in range(3):
        await site.issue("juminhyo")
    joined = await site.ok("POST", site.path("/queue"), 201,
                           json_body={"service": "juminhyo", "lang": "ja"})
    assert joined["state"] == "remote"
    async with chromium() as browser, phone_page(browser) as page:
        # The page compares the server's come-back time with its own clock:
        # the browser's is the server's (a weekday morning).
        await page.clock.install(time=clock.now)
        await page.goto(page_url(site, joined["id"]))
        await wait_ready(page)
        await shows_state(page, "remote")
        assert await text_of(page, "#state") == ja["state.remote"]
        assert re.fullmatch(r"\d{1,2}:\d{2}までに庁舎にお戻りください。",
                            await text_of(page, "#come-back")), await text_of(page, "#come-back")
        assert await page.is_hidden("#waiting-info")
        assert await audit(page) == []
        await page.screenshot(path=str(SHOTS / "ticket_remote_ja.png"), full_page=True)

        # Not four digits: said at the field, nothing sent.
        await page.fill("#presence", "12")
        await page.click("#arrive")
        assert await text_of(page, "#presence-error") == ja["remote.code_required"]
        assert await page.get_attribute("#presence", "aria-invalid") == "true"
        # A wrong code: the API refuses, the page says so at the field.
        code, _ = site.app[CONTEXT].bookings.presence_code(site.office)
        wrong = f"{(int(code) + 5000) % 10000:04d}"
        await page.fill("#presence", wrong)
        await page.click("#arrive")
        await page.wait_for_function(
            "(t) => document.getElementById('presence-error').textContent === t",
            arg=ja["error.presence_required"])
        # The code on the lobby screen, typed with a Japanese keyboard.
        await page.fill("#presence", code.translate(str.maketrans("0123456789",
                                                                  "０１２３４５６７８９")))
        await page.click("#arrive")
        await shows_state(page, "waiting")
        assert ja["remote.arrived"] in await text_of(page, "#status")
        assert await page.is_visible("#waiting-info")
    assert (await site.ok("GET", f"/api/v1/tickets/{joined['id']}"))["state"] == "waiting"


async def test_rejoin_after_a_no_show(site: AppHarness) -> None:
    en = catalog("en")
    await site.act("1", "open")
    ticket = await site.issue("juminhyo", lang="en")
    async with chromium() as browser, phone_page(browser) as page:
        await page.goto(page_url(site, ticket["id"]))
        await wait_ready(page)
        await site.act("1", "call-next")
        await site.act("1", "recall")
        await site.act("1", "no-show")
        await shows_state(page, "no_show")
        assert await text_of(page, "#h-no-show") == en["no_show.title"]
        assert await audit(page) == []
        await page.click("#rejoin")
        await shows_state(page, "waiting")
        assert en["no_show.rejoined"] in await text_of(page, "#status")
        # Still live: the next call reaches the page.
        await site.act("1", "call-next")
        await shows_state(page, "called")


async def test_small_screen_320px(site: AppHarness) -> None:
    await site.act("1", "open")
    ticket = await site.issue("juminhyo", lang="vi")
    async with chromium() as browser, phone_page(browser) as page:
        await page.set_viewport_size({"width": 320, "height": 640})
        await page.goto(page_url(site, ticket["id"]))
        await wait_ready(page)
        assert await layout_problems(page, "#number", "#state", "#ahead", "#wait",
                                     "#alerts-on", "#cancel") == []
        await site.act("1", "call-next")
        await shows_state(page, "called")
        assert await text_of(page, "#counter") == "Quầy 1"
        assert await layout_problems(page, "#counter", "#number", ".called-title",
                                     "#called-before", "#state") == []
        assert await audit(page) == []
        await page.screenshot(path=str(SHOTS / "ticket_called_320_vi.png"), full_page=True)
        await page.click("button[data-lang='en']")
        await page.wait_for_function(
            "() => document.getElementById('counter').textContent === 'Counter 1'")
        assert await layout_problems(page, "#counter", "#number", ".called-title") == []
        lines = await page.evaluate("""() => {
            const el = document.getElementById('counter');
            return el.getBoundingClientRect().height / parseFloat(getComputedStyle(el).lineHeight);
        }""")
        assert lines < 1.5  # "Counter 1" on one line, even 320px wide
        await page.screenshot(path=str(SHOTS / "ticket_called_320_en.png"), full_page=True)


# --- Web Push from the page ------------------------------------------------------------

# The browser's push service is Google's or Mozilla's, out of reach here: the
# page's PushManager hands out a subscription of the local fake push service
# instead (keys made by the test), and the rest is the real path.
FAKE_PUSH_MANAGER = """
(() => {
  const sub = %s;
  let current = null;
  PushManager.prototype.getSubscription = async function () { return current; };
  PushManager.prototype.subscribe = async function (options) {
    window.__subscribeOptions = {
      userVisibleOnly: options.userVisibleOnly,
      key: Array.from(new Uint8Array(options.applicationServerKey)),
    };
    current = {
      endpoint: sub.endpoint,
      options: { applicationServerKey: options.applicationServerKey },
      toJSON: () => ({ endpoint: sub.endpoint, expirationTime: null, keys: sub.keys }),
      unsubscribe: async () => { current = null; return true; },
    };
    return current;
  };
})();
"""


async def test_web_push_subscription_from_the_page_gets_the_call(
        site: AppHarness, redis: Redis) -> None:
    await site.act("1", "open")
    ticket = await site.issue("juminhyo", lang="ja")
    public_key = (await site.ok("GET", "/api/v1/push/vapid-public-key"))["public_key"]
    log = RequestLog()
    async with FakePushService() as push, chromium() as browser, \
            phone_page(browser, log=log) as page:
        sub = push.subscriber()
        await page.context.grant_permissions(["notifications"], origin=base_url(site))
        await page.add_init_script(FAKE_PUSH_MANAGER % json.dumps(sub.json()))
        await page.goto(page_url(site, ticket["id"], "en"))
        await wait_ready(page)
        await page.click("#alerts-on")
        await page.wait_for_function(
            "(t) => document.getElementById('push-state').textContent === t",
            arg=catalog("en")["alerts.push_on"])
        options = await page.evaluate("() => window.__subscribeOptions")
        assert options["userVisibleOnly"] is True
        assert bytes(options["key"]) == b64url_decode(public_key)
        stored = await redis.hgetall(push_key(site.tenant, ticket["id"]))
        [value] = stored.values()
        assert json.loads(value)["endpoint"] == sub.endpoint
        assert json.loads(value)["lang"] == "en"
        # The service worker is the page's, at /t/sw.js with scope /t/.
        scope = await page.evaluate(
            "async () => (await navigator.serviceWorker.getRegistration('/t/')).scope")
        assert scope == base_url(site) + "/t/"

        await site.act("1", "call-next")
        [message] = await push.wait_for(1)
        assert message.problems == []
        assert message.payload is not None
        assert message.payload["kind"] == "called"
        assert message.payload["counter"] == "Counter 1"
        assert message.payload["title"] == f"{ticket['number']}: it is your turn"

        # The decrypted message, handed to the service worker as the browser
        # would: it shows the notification.
        cdp = await page.context.new_cdp_session(page)
        registration: asyncio.Future[str] = asyncio.get_running_loop().create_future()

        def registered(event: dict[str, Any]) -> None:
            for r in event["registrations"]:
                if r["scopeURL"] == scope and not registration.done():
                    registration.set_result(r["registrationId"])

        cdp.on("ServiceWorker.workerRegistrationUpdated", registered)
        await page.evaluate("""() => {
            window.__pushes = [];
            navigator.serviceWorker.addEventListener(
                "message", (e) => window.__pushes.push(e.data));
        }""")
        await cdp.send("ServiceWorker.enable")  # reports the existing registrations
        await cdp.send("ServiceWorker.deliverPushMessage", {
            "origin": base_url(site) + "/",
            "registrationId": await asyncio.wait_for(registration, 10),
            "data": json.dumps(message.payload, ensure_ascii=False)})
        # The worker tells the open page after showing the notification.
        await page.wait_for_function("() => window.__pushes.length > 0")
        assert await page.evaluate("() => window.__pushes[0].type") == "push"
        titles = await page.evaluate("""async () => {
            const reg = await navigator.serviceWorker.getRegistration('/t/');
            return (await reg.getNotifications()).map((n) => n.title);
        }""")
        assert titles == [message.payload["title"]]
    assert log.foreign() == []
    assert log.console_errors == []


async def test_without_push_the_page_still_works_on_its_socket(site: AppHarness) -> None:
    """Headless Chromium has no push service: subscribing fails, and the page
    says notifications are unavailable, with no error, and is still called."""
    en = catalog("en")
    await site.act("1", "open")
    ticket = await site.issue("juminhyo", lang="en")
    log = RequestLog()
    async with chromium() as browser, phone_page(browser, log=log) as page:
        await page.context.grant_permissions(["notifications"], origin=base_url(site))
        await page.goto(page_url(site, ticket["id"]))
        await wait_ready(page)
        await page.click("#alerts-on")
        await page.wait_for_function(
            "(t) => document.getElementById('push-state').textContent === t",
            arg=en["alerts.push_off"])
        await site.act("1", "call-next")
        await shows_state(page, "called")
    # Chromium itself says why subscribe() failed (a Playwright context is
    # incognito, where Chrome has no Push API and, deliberately, no way to
    # detect that beforehand); the page adds nothing.
    assert [e for e in log.console_errors if "Push API in incognito" not in e] == []
    assert log.foreign() == []


# --- headers, service worker, catalogs --------------------------------------------------


async def test_service_worker_and_static_files_are_served_safely(site: AppHarness) -> None:
    async with site.client.get("/t/sw.js") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/javascript")
        assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
        assert "showNotification" in await resp.text()
    for path in ("/static/ticket/ticket.js", "/static/ticket/ticket.css",
                 "/static/ticket-i18n/ticket.ja.json"):
        async with site.client.get(path) as resp:
            assert resp.status == 200, path
    for path in ("/static/ticket/../../ticket_pages.py", "/static/ticket/%2e%2e/webpush.py",
                 "/static/ticket-i18n/%2e%2e/ticket/ticket.js", "/static/ticket/",
                 "/static/ticket-i18n/../../webpush.py", "/t/", "/t/sw.js/x"):
        # Sent as written: the client must not tidy the dots away.
        async with site.client.get(URL(path, encoded=True)) as resp:
            assert resp.status == 404, path
    ticket = await site.issue("juminhyo")
    async with site.client.get(f"/t/{ticket['id']}") as resp:
        assert resp.status == 200
        csp = resp.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "'unsafe-inline'" not in csp
        assert resp.headers["Referrer-Policy"] == "no-referrer"
        html = await resp.text()
        assert ticket["id"] not in html and ticket["number"] not in html  # a static page


class _Keys(HTMLParser):
    """data-i18n keys of the page, text written into it, and inline code."""

    def __init__(self) -> None:
        super().__init__()
        self.keys: set[str] = set()
        self.inline: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("data-i18n"):
            self.keys.add(str(a["data-i18n"]))
        if tag == "script" and not a.get("src"):
            self.inline.append("script")
        if "style" in a or tag == "style":
            self.inline.append("style")
        if any(k.startswith("on") for k in a):
            self.inline.append("handler")
        for name in ("alt", "title", "placeholder", "aria-label"):
            if a.get(name):
                self.text.append(f"{name}={a[name]}")

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.text.append(data.strip())


# Event types look like keys ("ticket.called") but are not.
EVENT_TYPE = re.compile(r"^(ticket|counter|booking|config)\.[a-z_]+$")


def used_keys() -> set[str]:
    parser = _Keys()
    parser.feed((TICKET / "ticket.html").read_text(encoding="utf-8"))
    keys = set(parser.keys)
    for js in TICKET.glob("*.js"):
        keys |= set(re.findall(r"""["']([a-z_]+\.[A-Za-z0-9_.-]+)["']""",
                               js.read_text(encoding="utf-8")))
    namespaces = {k.split(".")[0] for k in catalog("ja")}
    return {k for k in keys if k.split(".")[0] in namespaces and not k.endswith(".js")
            and not (EVENT_TYPE.match(k) and k not in catalog("ja"))}


def test_every_key_used_is_in_every_catalog() -> None:
    used = used_keys()
    assert "called.announce" in used and "state.waiting" in used
    for lang in LANGS:
        missing = used - set(catalog(lang))
        assert not missing, (lang, sorted(missing))
    # The server composes the notification from the same catalogs.
    for lang in LANGS:
        assert {"push.title_called", "push.title_recalled", "push.body"} <= set(catalog(lang))


def test_catalogs_have_the_same_keys_and_placeholders() -> None:
    base = catalog("ja")
    for lang in LANGS:
        other = catalog(lang)
        assert set(other) == set(base), (lang, set(other) ^ set(base))
        for key, text in base.items():
            assert set(re.findall(r"\{\w+\}", other[key])) == set(
                re.findall(r"\{\w+\}", text)), (lang, key)
        for code in LANGS:  # each language is named in its own language everywhere
            assert other[f"lang.{code}"] == base[f"lang.{code}"]


def test_page_has_no_inline_code_and_no_text_of_its_own() -> None:
    parser = _Keys()
    parser.feed((TICKET / "ticket.html").read_text(encoding="utf-8"))
    assert parser.inline == []
    assert parser.text == []  # every text comes from the catalogs
