"""The administration pages in Debian's headless Chromium (Playwright)
against the real app and Redis: a manager edits an office by keyboard and
the displays follow (config.changed) and the audit log shows it; invalid
entries are explained next to their fields in the chosen language; device
tokens are shown once and revoked after confirming; an exported set-up is
imported into another office after a preview; and the message catalogs."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from redis.asyncio import Redis

from queue_server.auth import Tokens
from tests.accounts import (
    LANGS,
    STATIC,
    WAIT_MS,
    add_accounts,
    base_url,
    catalog_file,
    keys_named,
    script_errors,
    text_of,
    type_login,
    wait_text,
)
from tests.browser import RequestLog, audit, focus_is, own_desktop, tab_to, wait_ready
from tests.conftest import WEEKDAY_HOURS, small_office
from tests.servers import AppHarness, app_harness, bearer, receive_json
from ticket_printer.dates import wareki_year

A = "testoffice"
B = "otheroffice"
OFFICE_PC = {"viewport": {"width": 1366, "height": 900}, "locale": "ja-JP",
             "timezone_id": "Asia/Tokyo"}


def catalog(lang: str, name: str = "admin") -> dict[str, str]:
    return catalog_file(name, lang)


@pytest.fixture
async def site(redis: Redis, tenant: str) -> AsyncIterator[AppHarness]:
    # The weekday hours: these tests read and edit them.
    async with app_harness(redis, tenant, small_office(A, hours=WEEKDAY_HOURS)) as harness:
        await harness.engine.configure(small_office(B, hours=WEEKDAY_HOURS))
        await add_accounts(harness, ("manager-a", "manager", [A], "管理 花子"),
                           ("manager-ab", "manager", [A, B], "両方 次郎"),
                           ("clerk-a", "staff", [A], "窓口 一郎"))
        yield harness


def office_pc(log: RequestLog) -> Any:
    """A desktop browser whose requests may not leave this machine."""
    return own_desktop(log, OFFICE_PC)


async def log_in(page: Any, site: AppHarness, name: str, next_path: str) -> None:
    """Through the login page, by keyboard, landing on `next_path`."""
    base = base_url(site)
    await page.goto(f"{base}/login?next={next_path}")
    await wait_ready(page)
    await type_login(page, name)
    await page.wait_for_url(f"{base}{next_path}", timeout=WAIT_MS)
    await wait_ready(page)


def unset_dropped(value: Any) -> Any:
    """The stored document without its unset (null) fields, as a person
    wrote it."""
    if isinstance(value, dict):
        return {k: unset_dropped(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [unset_dropped(v) for v in value]
    return value


async def stored(site: AppHarness, office: str) -> tuple[dict[str, Any], int]:
    keys = site.engine.keys(office)
    raw, version = await site.redis.mget(keys.config, keys.k("version"))
    return json.loads(raw), int(version)


async def retype(page: Any, text: str) -> None:
    """Replaces the focused field's text, as a person does."""
    await page.keyboard.press("Control+A")
    await page.keyboard.press("Delete")
    if text:
        await page.keyboard.type(text)


# --- the editor, by keyboard

def today_and_tomorrow() -> list[date]:
    """The office's today, and tomorrow in case midnight passes meanwhile."""
    today = datetime.now(ZoneInfo("Asia/Tokyo")).date()
    return [today, today + timedelta(days=1)]


def era_date(day: date) -> str:
    era, year = wareki_year(day) or ("", 0)
    name = {"reiwa": "令和", "heisei": "平成"}[era]
    return f"{name}{'元' if year == 1 else year}年{day.month}月{day.day}日"


async def test_manager_edits_by_keyboard_and_the_display_follows(site: AppHarness) -> None:
    ja = catalog("ja")
    base = base_url(site)
    _, version = await stored(site, A)
    log = RequestLog()
    async with site.client.ws_connect(f"/ws/offices/{A}/display") as display:
        assert (await receive_json(display))["type"] == "hello"
        async with office_pc(log) as page:
            await log_in(page, site, "manager-a", "/admin")
            assert await audit(page) == []
            # The manager sees their office only, and opens it.
            assert await page.locator("#office-list tr").count() == 1
            await tab_to(page, f"a[href='/admin/offices/{A}']")
            await page.keyboard.press("Enter")
            await page.wait_for_url(f"{base}/admin/offices/{A}")
            await wait_ready(page)
            assert await text_of(page, "h1") == ja["editor.heading"].replace(
                "{name}", "テスト区役所")
            assert await audit(page) == []
            # The 和暦 example is today in the office's zone, not a fixed date.
            wareki = await text_of(page, "label:has(#f-ticket_wareki)")
            assert any(era_date(d) in wareki and wareki == ja["editor.wareki"].format(
                example=era_date(d)) for d in today_and_tomorrow()), wareki

            # A service: open its card, rename it, change its minutes.
            await tab_to(page, "#f-services_0", limit=200)
            await page.keyboard.press("Enter")
            await tab_to(page, "[data-path='services.0.names.ja']")
            await retype(page, "証明書発行")
            await wait_text(page, "#f-services_0", "証明書発行")  # the title follows
            await tab_to(page, "[data-path='services.0.expected_minutes']")
            await retype(page, "7")
            await wait_text(page, "#save-state", ja["editor.unsaved"])

            # A new counter with two services, the second moved first.
            await tab_to(page, "#f-add-counter", limit=200)
            await page.keyboard.press("Enter")
            assert await focus_is(page, "[data-path='counters.5.id']")
            assert await page.input_value("[data-path='counters.5.id']") == "6"
            await page.keyboard.press("Tab")
            assert await focus_is(page, "[data-path='counters.5.names.ja']")
            await page.keyboard.type("6番窓口")
            await tab_to(page, "#f-counters_5_services")
            assert await page.input_value("#f-counters_5_services") == "shomei"
            await page.keyboard.press("Tab")
            await page.keyboard.press("Enter")  # add 証明書発行
            assert await focus_is(page, "#f-counters_5_services")
            assert await page.input_value("#f-counters_5_services") == "ido"
            await page.keyboard.press("Tab")
            await page.keyboard.press("Enter")  # add ido
            await tab_to(page, "#f-counters_5-order-ido-up", backwards=True)
            await page.keyboard.press("Alt+ArrowUp")
            await wait_text(page, "#status", ja["editor.moved"].replace(
                "{name}", "B ido").replace("{position}", "1").replace("{count}", "2"))
            assert await focus_is(page, "#f-counters_5-order-ido-up")
            order = await page.eval_on_selector_all(
                "#f-counters_5-order li", "items => items.map(i => i.dataset.service)")
            assert order == ["ido", "shomei"]
            assert await audit(page) == []

            # Save with the keyboard shortcut.
            await page.keyboard.press("Control+S")
            saved = ja["editor.saved"].replace("{version}", str(version + 1))
            await wait_text(page, "#status", saved)
            await page.screenshot(path="/tmp/admin_editor_saved.png")

            # The display's socket hears of it at once.
            event = await receive_json(display)
            assert event["type"] == "config.changed" and event["version"] == version + 1
            config, now = await stored(site, A)
            assert now == version + 1
            assert config["services"][0]["names"]["ja"] == "証明書発行"
            assert config["services"][0]["expected_minutes"] == 7
            assert unset_dropped(config["counters"][5]) == {"id": "6", "names": {"ja": "6番窓口"},
                                             "services": ["ido", "shomei"], "order": "priority"}
            services = await site.ok("GET", site.path("/services"))
            assert services["services"][0]["names"]["ja"] == "証明書発行"

            # The audit log says who changed what.
            await tab_to(page, "a[href='/admin/audit']", backwards=True, limit=400)
            await page.keyboard.press("Enter")
            await page.wait_for_url(f"{base}/admin/audit")
            await wait_ready(page)
            first = page.locator("#audit-list tr").first
            row = await first.text_content() or ""
            assert "管理 花子" in row and ja["audit.action_config_update"] in row
            assert "services[shomei].names.ja" in row and "証明書発行" in row
            assert "counters[6]" in row
            assert await audit(page) == []
            assert await audit(page) == []
            await page.screenshot(path="/tmp/admin_audit.png", full_page=True)
    assert log.foreign() == [] and script_errors(log) == [], log


async def test_invalid_entries_are_explained_next_to_their_fields(site: AppHarness) -> None:
    en = catalog("en")
    before, version = await stored(site, A)
    log = RequestLog()
    async with office_pc(log) as page:
        puts: list[str] = []
        page.on("request", lambda r: puts.append(r.url) if r.method == "PUT" else None)
        await log_in(page, site, "manager-a", f"/admin/offices/{A}?lang=en")
        assert await text_of(page, "#h-s-services") == en["section.services"]

        # As one types: a service time of 0 minutes.
        await tab_to(page, "#f-services_0", limit=200)
        await page.keyboard.press("Enter")
        await tab_to(page, "[data-path='services.0.expected_minutes']")
        await retype(page, "0")
        field = "[data-path='services.0.expected_minutes']"
        greater = en["problem.greater_than"].replace("{gt}", "0")
        await wait_text(page, "#f-services_0_expected_minutes-error", greater)
        assert await page.get_attribute(field, "aria-invalid") == "true"
        described = await page.get_attribute(field, "aria-describedby") or ""
        assert "f-services_0_expected_minutes-error" in described.split()
        # A letter another service has: found on saving, and nothing is sent.
        await tab_to(page, "#f-services_1", limit=200)
        await page.keyboard.press("Enter")
        await tab_to(page, "[data-path='services.1.letter']")
        await retype(page, "a")  # upper-cased as typed
        await page.keyboard.press("Control+S")
        await wait_text(page, "#h-summary", en["editor.summary"].replace("{count}", "2"))
        assert await focus_is(page, field)  # the first problem
        duplicate = en["problem.duplicate_letter"].replace("{letter}", "A")
        await wait_text(page, "#f-services_1_letter-error", duplicate)
        assert puts == []
        await page.screenshot(path="/tmp/admin_invalid_client.png")
        assert await audit(page) == []
        await retype(page, "6")
        await tab_to(page, "[data-path='services.1.letter']")
        await retype(page, "C")

        # Only the server knows: an SMS text with a placeholder nobody fills.
        await tab_to(page, "#f-sms-en", limit=400)
        await page.keyboard.press("Enter")
        await tab_to(page, "[data-path='sms_texts.en.near']")
        await page.keyboard.type("Nearly your turn, {numbr}: {link}")
        await page.keyboard.press("Control+S")
        sms = "[data-path='sms_texts.en.near']"
        unknown = en["problem.sms_placeholder"].replace("{placeholder}", "numbr").replace(
            "{allowed}", "office, number, service, ahead, link")
        await wait_text(page, "#f-sms_texts_en_near-error", unknown)
        await wait_text(page, "#alert", en["admin.error.validation_failed"])
        assert await page.get_attribute(sms, "aria-invalid") == "true"
        assert await focus_is(page, sms)
        summary = await text_of(page, "#summary-list")
        assert unknown in summary
        assert len(puts) == 1
        assert await stored(site, A) == (before, version)  # nothing saved half
        await page.screenshot(path="/tmp/admin_invalid_server.png")
        assert await audit(page) == []

        # Corrected, it saves (and only then).
        await retype(page, "Nearly your turn, {number}: {link}")
        await page.keyboard.press("Control+S")
        await wait_text(page, "#status", en["editor.saved"].replace(
            "{version}", str(version + 1)))
        config, _ = await stored(site, A)
        assert unset_dropped(config["sms_texts"]) == {
            "en": {"near": "Nearly your turn, {number}: {link}"}}
        assert config["services"][0]["expected_minutes"] == 6
        assert config["services"][1]["letter"] == "C"
    assert log.foreign() == [] and script_errors(log) == [], log


async def test_a_conflicting_save_is_refused_and_the_latest_loaded(site: AppHarness) -> None:
    ja = catalog("ja")
    log = RequestLog()
    async with office_pc(log) as page:
        await log_in(page, site, "manager-a", f"/admin/offices/{A}")
        # Meanwhile someone else saves.
        other = small_office(A)
        other.queue.max_recalls = 4
        await site.engine.configure(other)
        _, version = await stored(site, A)
        await tab_to(page, "[data-path='queue.rejoin_minutes']", limit=400)
        await retype(page, "15")
        await page.keyboard.press("Control+S")
        await wait_text(page, "#alert", ja["admin.error.config_conflict"])
        assert await focus_is(page, "#reload-latest")
        assert (await stored(site, A))[1] == version
        await page.keyboard.press("Enter")
        await wait_text(page, "#status", ja["editor.reloaded"].replace("{version}",
                                                                        str(version)))
        assert await page.input_value("[data-path='queue.max_recalls']") == "4"
    assert log.foreign() == [] and script_errors(log) == [], log


async def test_a_new_service_appears_at_once(site: AppHarness) -> None:
    """The issue's admin e2e: a service with a new letter in ja/en shows in
    the services API at once, and the audit log records it."""
    ja = catalog("ja")
    log = RequestLog()
    async with office_pc(log) as page:
        await log_in(page, site, "manager-a", f"/admin/offices/{A}")
        # The counter console is open in another window all along.
        console = await page.context.new_page()
        await console.goto(f"{base_url(site)}/staff?office={A}&counter=1")
        await wait_ready(console)
        await page.bring_to_front()
        await tab_to(page, "#f-add-service", limit=200)
        await page.keyboard.press("Enter")
        assert await focus_is(page, "[data-path='services.3.id']")
        await page.keyboard.type("mynumber")
        await page.keyboard.press("Tab")
        assert await focus_is(page, "[data-path='services.3.letter']")
        assert await page.input_value("[data-path='services.3.letter']") == "C"  # the next free
        await page.keyboard.press("Tab")
        await page.keyboard.type("マイナンバーカード")
        await page.keyboard.press("Tab")
        await page.keyboard.type("My Number Card")
        # Served at counter 1, after its own service.
        await tab_to(page, "#f-counters_0", limit=200)
        await page.keyboard.press("Enter")
        await tab_to(page, "#f-counters_0_services")
        await page.select_option("#f-counters_0_services", "mynumber")
        await page.keyboard.press("Tab")
        await page.keyboard.press("Enter")
        await page.keyboard.press("Control+S")
        await wait_text(page, "#status", ja["editor.saved"].split("（")[0])
        # Saved: the id is fixed now.
        assert await page.locator("[data-path='services.3.id']").count() == 0

        async def desk_dialog_lists(name: str) -> None:
            """The console's desk-ticket dialog offers the service (the
            console reloads its set-up on config.changed, without a reload
            of the page)."""
            while True:
                await console.keyboard.press("i")
                await console.wait_for_selector("dialog#issue[open]")
                if name in await console.inner_text("#issue-services"):
                    return
                await console.keyboard.press("Escape")
                await console.wait_for_selector("dialog#issue:not([open])", state="attached")

        await console.bring_to_front()
        await asyncio.wait_for(desk_dialog_lists("マイナンバーカード"), WAIT_MS / 1000)
    services = await site.ok("GET", site.path("/services"))
    new = services["services"][3]
    assert (new["id"], new["letter"], new["names"]) == (
        "mynumber", "C", {"ja": "マイナンバーカード", "en": "My Number Card"})
    config, _ = await stored(site, A)
    assert config["counters"][0]["services"] == ["shomei", "mynumber"]
    status = await site.ok("GET", site.path("/status"))
    assert "mynumber" in [s["id"] for s in status["services"]]
    entry = (await site.ok("GET", f"/api/v1/admin/audit?office={A}", headers=bearer(
        (await Tokens(site.redis, site.tenant).create("admin", "*"))[0])))["entries"][0]
    assert entry["user"] == "manager-a"
    assert {c["path"] for c in entry["changes"]} == {"services[mynumber]",
                                                     "counters[1].services"}
    assert log.foreign() == [] and script_errors(log) == [], log


async def test_hours_closed_days_and_special_hours(site: AppHarness) -> None:
    ja = catalog("ja")
    _, version = await stored(site, A)
    log = RequestLog()
    async with office_pc(log) as page:
        await log_in(page, site, "manager-a", f"/admin/offices/{A}")
        # Saturday mornings open; Friday closes too early by mistake.
        await tab_to(page, "#f-hours_weekly_6_on", limit=100)
        await page.keyboard.press("Space")
        assert await focus_is(page, "#f-hours_weekly_6_on")
        await tab_to(page, "[data-path='hours.weekly.6.close']")
        await retype(page, "12:00")
        await tab_to(page, "[data-path='hours.weekly.5.close']", backwards=True)
        await retype(page, "08:00")
        close_first = ja["problem.close_before_open"]
        await wait_text(page, "#f-hours_weekly_5_close-error", close_first)  # as typed
        await retype(page, "17:15")
        await page.wait_for_function(
            "() => document.getElementById('f-hours_weekly_5_close-error').textContent === ''")
        assert await page.get_attribute("#f-hours_weekly_5_close", "aria-invalid") is None
        # A closed day and a day of longer hours (the date picker is the
        # browser's own; its typing order follows the PC's locale).
        await tab_to(page, "#f-add-override", limit=100)
        await page.keyboard.press("Enter")
        assert await focus_is(page, "#f-override-0-date")
        await page.fill("#f-override-0-date", "2026-12-28")
        await tab_to(page, "#f-add-override")
        await page.keyboard.press("Enter")
        await page.fill("#f-override-1-date", "2027-03-29")
        await tab_to(page, "#f-override-1-kind")
        await page.keyboard.press("ArrowDown")  # special hours
        await tab_to(page, "#f-override-1-close")
        await retype(page, "07:00")
        await page.keyboard.press("Control+S")
        await wait_text(page, "#f-override-1-close-error", close_first)
        assert await focus_is(page, "#f-override-1-close")
        assert await audit(page) == []
        await retype(page, "19:00")
        await page.keyboard.press("Control+S")
        await wait_text(page, "#status", ja["editor.saved"].replace("{version}",
                                                                     str(version + 1)))
    config, _ = await stored(site, A)
    assert config["hours"]["weekly"]["6"] == {"open": "08:30", "close": "12:00"}
    assert config["hours"]["weekly"]["5"] == {"open": "08:30", "close": "17:15"}
    assert config["hours"]["overrides"] == {
        "2026-12-28": None, "2027-03-29": {"open": "08:30", "close": "19:00"}}
    assert log.foreign() == [] and script_errors(log) == [], log


# --- device tokens

async def test_tokens_are_shown_once_and_revoked_after_confirming(site: AppHarness) -> None:
    ja = catalog("ja")
    log = RequestLog()
    # Open at every hour: the new kiosk token issues a ticket whatever the time.
    await site.engine.configure(small_office(A))
    async with office_pc(log) as page:
        await page.context.grant_permissions(["clipboard-read", "clipboard-write"])
        await log_in(page, site, "manager-a", "/admin/tokens")
        assert await audit(page) == []
        await tab_to(page, "#token-role")
        assert await page.input_value("#token-role") == "kiosk"
        await tab_to(page, "#token-label")
        await page.keyboard.type("1階入口の発券機")
        await page.keyboard.press("Enter")
        await wait_text(page, "#status", ja["tokens.created"])
        assert await focus_is(page, "#token-value")
        token = await page.input_value("#token-value")
        assert token.startswith("mg_")
        await page.keyboard.press("Tab")
        assert await focus_is(page, "#token-copy")
        await page.keyboard.press("Enter")
        await wait_text(page, "#status", ja["tokens.copied"])
        assert await page.evaluate("navigator.clipboard.readText()") == token
        assert await audit(page) == []
        await page.screenshot(path="/tmp/admin_token_created.png")
        # The token works for its kiosk.
        status, _ = await site.request("POST", site.path("/tickets"),
                                       json_body={"service": "shomei"}, headers=bearer(token))
        assert status == 201
        # Listed (never the secret); shown once: a reload has no token on screen.
        row = page.locator("#token-list tr", has_text="1階入口の発券機")
        await row.wait_for()
        token_id = await row.get_attribute("data-token")
        assert token_id and token not in await text_of(page, "#token-list")
        await page.reload()
        await wait_ready(page)
        assert token not in await page.content()

        # Revoke: asked first (the safe answer focused), then gone.
        await tab_to(page, f"button[data-revoke='{token_id}']")
        await page.keyboard.press("Enter")
        await page.wait_for_selector("#confirm[open]")
        assert await focus_is(page, "#confirm-no")
        assert "1階入口の発券機" in await text_of(page, "#confirm-text")
        assert await audit(page) == []
        await page.keyboard.press("Escape")  # no: nothing happens
        await page.wait_for_selector("#confirm:not([open])", state="attached")
        assert await focus_is(page, f"button[data-revoke='{token_id}']")
        await page.keyboard.press("Enter")
        await page.wait_for_selector("#confirm[open]")
        await page.keyboard.press("Tab")
        assert await focus_is(page, "#confirm-yes")
        await page.keyboard.press("Enter")
        await wait_text(page, "#status", ja["tokens.revoked"].replace(
            "{label}", "1階入口の発券機"))
        assert await page.locator(f"tr[data-token='{token_id}']").count() == 0
        status, _ = await site.request("POST", site.path("/tickets"),
                                       json_body={"service": "shomei"}, headers=bearer(token))
        assert status == 401
    assert log.foreign() == [] and script_errors(log) == [], log


# --- export and import

async def test_an_exported_setup_is_imported_into_another_office(
    site: AppHarness, tmp_path: Path,
) -> None:
    ja = catalog("ja")
    token, _ = await Tokens(site.redis, site.tenant).create("admin", "*")
    async with site.client.get(f"/api/v1/admin/offices/{A}/config?format=yaml",
                               headers=bearer(token)) as resp:
        assert resp.status == 200
        exported = await resp.text()
    doc = yaml.safe_load(exported)
    doc["services"][1]["names"]["ja"] = "転入・転出"
    upload = tmp_path / "kokurakita.yaml"
    upload.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    _, version = await stored(site, B)
    log = RequestLog()
    async with office_pc(log) as page:
        await log_in(page, site, "manager-ab", f"/admin/offices/{B}")
        await page.set_input_files("#import-file", str(upload))
        await tab_to(page, "#import-preview", limit=400)
        await page.keyboard.press("Enter")
        await wait_text(page, "#preview-note", ja["transfer.other_office"].replace(
            "{from}", A).replace("{to}", B))
        assert await focus_is(page, "#h-preview")
        changes = await text_of(page, "#preview-changes")
        assert "services[ido].names.ja" in changes and "転入・転出" in changes
        assert (await stored(site, B))[1] == version  # a preview changes nothing
        assert await audit(page) == []
        await page.screenshot(path="/tmp/admin_import_preview.png")
        await tab_to(page, "#import-apply")
        await page.keyboard.press("Enter")
        await wait_text(page, "#status", ja["transfer.imported"].replace(
            "{version}", str(version + 1)))
    config, now = await stored(site, B)
    assert now == version + 1 and config["id"] == B
    assert config["services"][1]["names"]["ja"] == "転入・転出"
    assert {k: v for k, v in config.items() if k != "id"} == {
        k: v for k, v in doc.items() if k != "id"}
    assert log.foreign() == [] and script_errors(log) == [], log


# --- who gets in

async def test_pages_need_a_login_and_staff_are_told_no(site: AppHarness) -> None:
    ja = catalog("ja")
    base = base_url(site)
    log = RequestLog()
    async with office_pc(log) as page:
        for path in ("/admin", f"/admin/offices/{A}", "/admin/tokens", "/admin/audit"):
            await page.goto(base + path)
            await page.wait_for_url(re.compile(r"/login\?next="))
        await log_in(page, site, "clerk-a", "/admin")
        await wait_text(page, "#alert", ja["admin.error.forbidden"])
        await page.goto(f"{base}/admin/offices/{A}")
        await wait_ready(page)
        await wait_text(page, "#alert", ja["admin.error.forbidden"])
        assert await audit(page) == []
    assert log.foreign() == [], log


# --- the catalogs

def keys_used() -> set[str]:
    """Every catalog key named in the admin pages and their modules."""
    used = keys_named(
        "admin",
        r'"((?:admin|offices|editor|section|transfer|tokens|audit|accounts|nav|role|problem'
        r'|changes|langs|weekday|sms|template|confirm|common|lang|error)\.[A-Za-z0-9_.]+)"')
    for path in (STATIC / "admin").iterdir():
        for attrs in re.findall(r'data-i18n-attr="([^"]+)"', path.read_text(encoding="utf-8")):
            used |= {pair.split(":")[1].strip() for pair in attrs.split(";")}
    return used


def test_every_catalog_has_every_key() -> None:
    ja = catalog("ja")
    login = catalog("ja", "login")  # the pages also use the login catalog
    used = keys_used()
    assert used and used <= set(ja) | set(login), sorted(used - set(ja) - set(login))
    assert not set(ja) & set(login)  # one place for each text
    for lang in LANGS:
        data = catalog(lang)
        assert set(data) == set(ja), (lang, set(ja) ^ set(data))
        for key, text in data.items():
            assert text.strip(), (lang, key)
            assert set(re.findall(r"\{\w+\}", text)) == set(re.findall(r"\{\w+\}", ja[key])), (
                lang, key)


def test_pages_carry_japanese_and_no_inline_code() -> None:
    ja = catalog("ja") | catalog("ja", "login")
    for page in ("index.html", "office.html", "tokens.html", "audit.html"):
        html = (STATIC / "admin" / page).read_text(encoding="utf-8")
        assert '<html lang="ja">' in html
        assert "<script>" not in html and "style=" not in html  # strict CSP
        for key, text in re.findall(r'data-i18n="([^"]+)">([^<]+)<', html):
            assert text.strip() == ja[key], (page, key)


async def test_early_booking_call_rule_is_an_office_choice(site: AppHarness) -> None:
    """booking.early_call: whether a booking checked in early waits for its slot."""
    ja = catalog("ja")
    base = base_url(site)
    config, version = await stored(site, A)
    assert config["booking"]["early_call"] == "at_slot"  # DESIGN §5's default
    log = RequestLog()
    async with office_pc(log) as page:
        await log_in(page, site, "manager-a", f"/admin/offices/{A}")
        await page.wait_for_url(f"{base}/admin/offices/{A}")
        await wait_ready(page)
        field = "[data-path='booking.early_call']"
        assert await page.input_value(field) == "at_slot"
        assert ja["editor.early_call_at_slot"] in (await page.locator(field).text_content() or "")
        await page.select_option(field, "when_free")
        await page.keyboard.press("Control+S")
        await wait_text(page, "#status", ja["editor.saved"].replace("{version}",
                                                                     str(version + 1)))
        assert await audit(page) == []
    config, _ = await stored(site, A)
    assert config["booking"]["early_call"] == "when_free"
    assert log.foreign() == [] and script_errors(log) == [], log


async def test_bookings_the_counters_cannot_keep_are_explained_after_saving(
    site: AppHarness,
) -> None:
    """Issue 11: a bookable capacity beyond the counters' minutes is saved
    (a warning, not a refusal) and explained with its numbers; putting it
    right clears the warning."""
    ja = catalog("ja")
    office = small_office(A)
    okuyami = office.services[2]
    assert okuyami.id == "okuyami"
    okuyami.bookable, okuyami.slot_minutes, okuyami.slot_capacity = True, 60, 1
    await site.engine.configure(office)
    _, version = await stored(site, A)
    log = RequestLog()
    async with office_pc(log) as page:
        await log_in(page, site, "manager-a", f"/admin/offices/{A}")
        assert await page.locator("#warnings").is_hidden()  # 1 × 60 min per hour fits
        await tab_to(page, "#f-services_2", limit=200)
        await page.keyboard.press("Enter")
        await tab_to(page, "[data-path='services.2.slot_capacity']", limit=200)
        await retype(page, "2")
        await page.keyboard.press("Control+S")
        await wait_text(page, "#status", ja["editor.saved"].replace("{version}",
                                                                     str(version + 1)))
        expected = ja["editor.warning_booking_capacity"].format(
            service="okuyami", slot=60, capacity=2, minutes=60, booked=120, counters=1,
            available=60)
        assert expected == "okuyami: 60分枠に2人×60分=120分の予約を受けますが、" \
            "担当窓口1つで予約に使えるのは60分しかありません。"
        await wait_text(page, "#warnings-list", expected)
        assert await page.locator("#warnings").is_visible()
        assert await text_of(page, "#h-warnings") == ja["editor.warnings_heading"]
        assert await audit(page) == []
        # Put right: the warning goes.
        await tab_to(page, "[data-path='services.2.slot_capacity']", limit=200)
        await retype(page, "1")
        await page.keyboard.press("Control+S")
        await wait_text(page, "#status", ja["editor.saved"].replace("{version}",
                                                                     str(version + 2)))
        assert await page.locator("#warnings").is_hidden()
    config, _ = await stored(site, A)
    assert config["services"][2]["slot_capacity"] == 1
    assert log.foreign() == [] and script_errors(log) == [], log


async def test_the_import_preview_warns_of_bookings_the_counters_cannot_keep(
    site: AppHarness, tmp_path: Path,
) -> None:
    ja = catalog("ja")
    doc = json.loads(small_office(A).model_dump_json())
    doc["services"][2].update(bookable=True, slot_minutes=60, slot_capacity=3)
    upload = tmp_path / "setup.json"
    upload.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    log = RequestLog()
    async with office_pc(log) as page:
        await log_in(page, site, "manager-a", f"/admin/offices/{A}")
        await page.set_input_files("#import-file", str(upload))
        await tab_to(page, "#import-preview", limit=400)
        await page.keyboard.press("Enter")
        await wait_text(page, "#preview-problems", ja["editor.warning_booking_capacity"].format(
            service="okuyami", slot=60, capacity=3, minutes=60, booked=180, counters=1,
            available=60))
        assert await page.locator("#import-apply").is_visible()  # a warning, not a refusal
    assert log.foreign() == [] and script_errors(log) == [], log
