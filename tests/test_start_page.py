"""The start page at `/`: people get an HTML page (Japanese first, the
staff pages' language switch) listing every office's pages and the staff
login; API clients asking for JSON get the same list as JSON."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from tests.accounts import LANGS, base_url, catalog_file, keys_named, script_errors, wait_text
from tests.browser import RequestLog, audit, own_desktop, wait_ready
from tests.conftest import small_office
from tests.servers import AppHarness, app_harness

DESKTOP = {"viewport": {"width": 1366, "height": 768}, "locale": "ja-JP",
           "timezone_id": "Asia/Tokyo"}


@pytest.fixture
async def site(redis: Redis, tenant: str) -> AsyncIterator[AppHarness]:
    async with app_harness(redis, tenant, small_office()) as harness:
        await harness.engine.configure(small_office("second"))
        yield harness


async def test_json_clients_get_the_office_list(site: AppHarness) -> None:
    async with site.client.get("/", headers={"Accept": "application/json"}) as resp:
        assert resp.status == 200 and resp.content_type == "application/json"
        body = await resp.json()
    assert body["api"] == "/api/v1/openapi.json" and body["staff"]["login"] == "/login"
    assert [o["id"] for o in body["offices"]] == ["second", "testoffice"]
    office = body["offices"][1]
    assert office["names"]["ja"] == "テスト区役所"
    assert office["pages"] == {"booking": "/book/testoffice", "display": "/display/testoffice",
                               "kiosk": "/kiosk/testoffice"}
    # A browser (HTML first, or anything) gets the page.
    for accept in ("text/html,application/xhtml+xml,*/*;q=0.8", "*/*", ""):
        async with site.client.get("/", headers={"Accept": accept}) as resp:
            assert resp.status == 200 and resp.content_type == "text/html", accept
            assert '<html lang="ja">' in await resp.text()


def test_catalogs_have_every_key() -> None:
    used = keys_named("start", r'\bt\("([a-z_.]+)"', r'link\([^,]+, "([a-z_.]+)"\)')
    assert {k for k in used if k.startswith("start.")} >= {"start.booking", "start.kiosk"}
    login_keys = set(catalog_file("login", "ja"))
    for lang in LANGS:
        have = set(catalog_file("start", lang)) | set(catalog_file("login", lang))
        assert used <= have, (lang, used - have)
        assert set(catalog_file("start", lang)) == set(catalog_file("start", "ja")), lang
    assert used - {k for k in used if k.startswith("start.")} <= login_keys


async def test_start_page_in_chromium(site: AppHarness) -> None:
    base = base_url(site)
    log = RequestLog()
    ja, en = catalog_file("start", "ja"), catalog_file("start", "en")
    async with own_desktop(log, DESKTOP) as page:
        await page.goto(base + "/")
        await wait_ready(page)
        assert await page.get_attribute("html", "lang") == "ja"
        assert await page.title() == ja["start.page_title"]
        assert await page.locator("h1").all_text_contents() == [ja["start.heading"]]
        headings = await page.locator("h2").all_text_contents()
        assert headings == [ja["start.offices"], ja["start.staff"]]
        assert await page.locator("#offices h3").all_text_contents() == [
            "テスト区役所", "テスト区役所"]
        assert await audit(page) == []
        # Every link answers with a page (a 200, or the login page for the
        # staff pages that need one).
        hrefs = await page.eval_on_selector_all("main a[href]", "els => els.map(a => a.href)")
        assert f"{base}/book/testoffice" in hrefs and f"{base}/login" in hrefs
        assert len(hrefs) == 2 * 3 + 4
        async with site.client.get("/book/testoffice") as resp:
            assert resp.status == 200 and resp.content_type == "text/html"
        for href in hrefs:
            async with site.client.get(href.removeprefix(base), allow_redirects=True) as resp:
                assert resp.status == 200 and resp.content_type == "text/html", href
        # Following a link in the browser opens that page.
        await page.get_by_role("link", name=ja["start.booking"]).nth(1).click()
        await page.wait_for_url(re.compile(r"/book/testoffice$"))
        await page.go_back()
        await wait_ready(page)
        # The language switch: English, and the choice is kept for the next load.
        await page.click("button[data-lang='en']")
        await wait_text(page, "h1", en["start.heading"])
        assert await page.get_attribute("html", "lang") == "en"
        assert (await page.locator("#offices h3").all_text_contents())[1] == "Test Ward Office"
        await page.reload()
        await wait_ready(page)
        assert await page.locator("h1").text_content() == en["start.heading"]
        assert await audit(page) == []
    assert script_errors(log) == [] and log.foreign() == []
