"""SMS: the Redis outbox (Lua), the catalogs, the sender on the real twilio
client against a local fake Twilio API, and the signed webhooks."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from twilio.request_validator import RequestValidator

from ai_phone.sms import SmsSender, twilio_client
from ai_phone.sms_web import SMS, CancelResult, cancel_word_lang, set_inbound_cancel_handler
from queue_server.engine import Engine
from queue_server.errors import MadoguchiError
from queue_server.office_config import Office
from queue_server.scripts import INCLUDES
from queue_server.settings import Settings
from queue_server.sms_outbox import (
    KINDS,
    REPLY_KINDS,
    SMS_ARGC,
    SmsLimits,
    SmsOutbox,
    catalog,
    is_japanese_mobile,
    languages,
    parse_japanese_phone,
    render,
    segments,
    sid_key,
)
from tests.conftest import ManualClock, small_office
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio
from tests.servers import AppHarness, app_harness

OFFICE = "testoffice"
FROM = "+15005550006"
PUBLIC = "https://madoguchi.city.kitakyushu.lg.jp"
MOBILE = "+819012345678"
SLOT = "2026-11-28T10:30:00+09:00"  # a Saturday
LINK = "/b/testoffice." + "A" * 32  # the shape of a booking's manage link


# -- fixtures -------------------------------------------------------------


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilio]:
    server = await FakeTwilio().start()
    yield server
    await server.close()


@pytest.fixture
async def office_engine(redis: Redis, clean_tenant: str, clock: ManualClock) -> Engine:
    engine = Engine(redis, clean_tenant, clock=clock)
    await engine.configure(small_office(OFFICE))
    return engine


@pytest.fixture
def outbox(redis: Redis, clean_tenant: str, clock: ManualClock) -> SmsOutbox:
    return SmsOutbox(redis, clean_tenant, clock, max_attempts=4)


SenderFactory = Callable[..., Awaitable[SmsSender]]


@pytest.fixture
async def make_sender(fake: FakeTwilio, office_engine: Engine) -> AsyncIterator[SenderFactory]:
    made: list[SmsSender] = []

    async def make(outbox: SmsOutbox, **kwargs: Any) -> SmsSender:
        client = twilio_client(fake.account_sid, fake.auth_token, fake.base_url)
        kwargs.setdefault("timeout", 0.3)
        sender = SmsSender(outbox, client, FROM, PUBLIC, office_lookup=office_engine.office,
                           **kwargs)
        made.append(sender)
        return sender

    yield make
    for sender in made:
        await sender.close()


def signed(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> dict[str, str]:
    return {"X-Twilio-Signature": RequestValidator(token).compute_signature(url, params)}


async def enqueue(outbox: SmsOutbox, to: str = MOBILE, kind: str = "confirmation",
                  lang: str = "ja", **params: Any) -> dict[str, Any]:
    params = {"slot": SLOT, "link": LINK, **params}
    return await outbox.enqueue(OFFICE, to, kind, lang, params, ref="booking-1")


# -- phone numbers --------------------------------------------------------------

PHONES = [
    ("090-1234-5678", MOBILE),
    ("09012345678", MOBILE),
    ("+81 90-1234-5678", MOBILE),
    ("+819012345678", MOBILE),
    ("０９０－１２３４－５６７８", MOBILE),  # full-width, as typed on a Japanese keyboard
    ("０９０ー１２３４ー５６７８", MOBILE),  # long-vowel mark used as a dash
    ("(090) 1234 5678", MOBILE),
    ("080-9876-5432", "+818098765432"),
    ("070-1111-2222", "+817011112222"),
    ("093-582-1111", "+81935821111"),  # Kitakyushu city hall, a landline
    ("0120-123-456", "+81120123456"),
]
BAD_PHONES = ["", "abc", "12345", "090-1234-567", "090-1234-56789", "+1 202 555 0100",
              "+82 10-1234-5678", "+44 7700 900123", "010-1-202-555-0100"]


@pytest.mark.parametrize(("text", "e164"), PHONES)
def test_parse_japanese_phone(text: str, e164: str) -> None:
    assert parse_japanese_phone(text) == e164


@pytest.mark.parametrize("text", BAD_PHONES)
def test_parse_japanese_phone_refuses_foreign_and_malformed(text: str) -> None:
    with pytest.raises(MadoguchiError) as err:
        parse_japanese_phone(text)
    assert err.value.code == "invalid_phone" and err.value.status == 422


@pytest.mark.parametrize(("e164", "mobile"), [
    ("+819012345678", True), ("+818012345678", True), ("+817012345678", True),
    ("+81935821111", False),  # Kitakyushu landline (093)
    ("+81120123456", False),  # toll free
    ("+815012345678", False),  # IP phone (050)
    ("+812012345678", False),  # 020: pagers / M2M
    ("+12025550100", False),
])
def test_only_japanese_mobiles_get_sms(e164: str, mobile: bool) -> None:
    assert is_japanese_mobile(e164) is mobile


# -- catalogs ----------------------------------------------------------------------------

PLACEHOLDER = re.compile(r"\{(\w+)\}")
REALISTIC = {
    "office": "小倉北区役所", "slot": SLOT, "link": PUBLIC + LINK, "number": "A-023",
    "counter": "12番窓口", "ahead": 3,
}


def test_catalogs_have_every_text() -> None:
    assert set(languages()) >= {"ja", "ja-easy", "en", "ko", "zh-Hans", "vi"}
    for lang in languages():
        cat = catalog(lang)
        for kind in (*KINDS, *REPLY_KINDS):
            assert isinstance(cat.get(kind), str) and cat[kind].strip(), (lang, kind)
            # Same placeholders as the Japanese text (a translation may drop
            # `ahead`, as やさしい日本語 does, but never invent one).
            assert set(PLACEHOLDER.findall(cat[kind])) <= set(
                PLACEHOLDER.findall(catalog("ja")[kind])), (lang, kind)
        assert len(cat["_weekdays"]) == 7


@pytest.mark.parametrize("lang", ["ja", "ja-easy", "en", "ko", "zh-Hans", "vi"])
def test_every_text_renders_fully(lang: str) -> None:
    for kind in (*KINDS, *REPLY_KINDS):
        text = render(kind, lang, REALISTIC)
        assert "{" not in text and "}" not in text, (lang, kind, text)
        if "{link}" in catalog(lang)[kind]:
            assert PUBLIC + LINK in text
    # Parameters a caller left out take the catalog's defaults, never "{x}".
    assert "{" not in render("come_now", lang, {"number": "A-1"})


def test_japanese_texts_are_short() -> None:
    """UCS-2: 70 characters is one SMS (67 per part beyond). The texts with
    the booking link cannot fit one segment (the link alone is ~85
    characters); all stay within 140 (two segments)."""
    lengths = {}
    for lang in ("ja", "ja-easy"):
        for kind in KINDS:
            text = render(kind, lang, REALISTIC)
            encoding, units, parts = segments(text)
            lengths[(lang, kind)] = (units, parts)
            assert encoding == "UCS-2"
            assert units <= 140, (kind, units, text)
            if "{link}" not in catalog(lang)[kind]:
                assert units <= 70, (lang, kind, units, text)
    print("ja lengths (UCS-2 units, segments):", lengths)
    assert render("confirmation", "ja", REALISTIC) == (
        f"【小倉北区役所】ご予約を受け付けました。11月28日(土)10:30。確認・取消：{PUBLIC}{LINK}")


def test_slot_is_written_the_local_way() -> None:
    assert "11月28日(土)10:30" in render("cancellation", "ja", {"slot": SLOT})
    assert "Sat 28 Nov 10:30" in render("cancellation", "en", {"slot": SLOT})
    assert "11월 28일(토) 10:30" in render("cancellation", "ko", {"slot": SLOT})
    assert "11月28日（周六）10:30" in render("cancellation", "zh-Hans", {"slot": SLOT})
    assert "10:30 T7 28/11" in render("cancellation", "vi", {"slot": SLOT})
    # Already formatted text is kept; an unknown language falls back to Japanese.
    assert "明日の朝" in render("cancellation", "ja", {"slot": "明日の朝"})
    come = {"number": "A-1"}
    assert render("come_now", "xx", come) == render("come_now", "ja", come)
    assert render("come_now", "zh", {"number": "A-1"}) == render(
        "come_now", "zh-Hans", {"number": "A-1"})


def test_english_is_plain_gsm() -> None:
    """Plain GSM-7: 160 characters a segment. Texts without a link fit one."""
    for kind in KINDS:
        text = render(kind, "en", {**REALISTIC, "office": "Kokurakita Ward Office",
                                   "counter": "Counter 12"})
        encoding, units, parts = segments(text)
        assert encoding == "GSM-7", text
        assert parts == 1 or ("{link}" in catalog("en")[kind] and parts == 2), (kind, units)


# -- the outbox in Redis ---------------------------------------------------------------


async def test_enqueue_claim_lease(outbox: SmsOutbox, clock: ManualClock) -> None:
    queued = await enqueue(outbox)
    assert queued["state"] == "queued" and queued["attempts"] == 0
    first = await outbox.claim(OFFICE, 10)
    assert [m.id for m in first] == [queued["id"]]
    assert first[0].to == MOBILE and first[0].params["link"] == LINK and first[0].attempt == 1
    assert await outbox.claim(OFFICE, 10) == []  # leased: nobody else gets it
    record = await outbox.get(OFFICE, queued["id"])
    assert record is not None and record["state"] == "sending"

    # The sender crashed: when the lease runs out the message is due again.
    clock.advance(59)
    assert await outbox.claim(OFFICE, 10) == []
    clock.advance(2)
    again = await outbox.claim(OFFICE, 10)
    assert [m.id for m in again] == [queued["id"]] and again[0].attempt == 2
    # The crashed sender's late report changes nothing (its lease is gone).
    late = await outbox.failed_attempt(OFFICE, queued["id"], "timeout", attempt=1)
    assert late["stale"] and not late["changed"] and late["state"] == "sending"
    done = await outbox.sent(OFFICE, queued["id"], "SM" + "1" * 32, attempt=2)
    assert done["state"] == "sent" and done["sid"] == "SM" + "1" * 32


async def test_not_before_and_expiry(outbox: SmsOutbox, clock: ManualClock) -> None:
    later = await outbox.enqueue(OFFICE, MOBILE, "reminder", "ja", {"slot": SLOT}, "b-2",
                                 not_before=clock() + 3600)
    near = await outbox.enqueue(OFFICE, "080-1111-2222", "near", "ja",
                                {"number": "A-023", "ahead": 2}, "t-1")
    clock.advance(31 * 60)  # "your turn is near" is stale after 30 minutes
    assert await outbox.claim(OFFICE, 10) == []
    expired = await outbox.get(OFFICE, near["id"])
    assert expired is not None and expired["state"] == "expired"
    clock.advance(30 * 60)
    assert [m.id for m in await outbox.claim(OFFICE, 10)] == [later["id"]]


async def test_withdraw_a_queued_message(outbox: SmsOutbox, clock: ManualClock) -> None:
    reminder = await outbox.enqueue(OFFICE, MOBILE, "reminder", "ja", {"slot": SLOT}, "b-3",
                                    not_before=clock() + 600)
    sent_one = await enqueue(outbox, to="080-1111-2222")
    (claimed,) = await outbox.claim(OFFICE, 10)
    assert claimed.id == sent_one["id"]
    assert await outbox.withdraw(OFFICE, reminder["id"]) is True
    assert await outbox.withdraw(OFFICE, sent_one["id"]) is False  # already going out
    await outbox.sent(OFFICE, claimed.id, "SM" + "2" * 32, claimed.attempt)
    clock.advance(3600)
    assert await outbox.claim(OFFICE, 10) == []
    (listed,) = await outbox.list(OFFICE, state="withdrawn")
    assert listed["id"] == reminder["id"]


async def test_limits_per_phone_and_office(redis: Redis, clean_tenant: str,
                                           clock: ManualClock) -> None:
    outbox = SmsOutbox(redis, clean_tenant, clock, limits=SmsLimits(phone_per_day=2,
                                                                    office_per_day=3))
    await enqueue(outbox)
    await enqueue(outbox)
    with pytest.raises(MadoguchiError) as err:
        await enqueue(outbox)
    assert err.value.code == "sms_limit_phone" and err.value.status == 429
    await enqueue(outbox, to="080-1111-2222")
    with pytest.raises(MadoguchiError) as err:
        await enqueue(outbox, to="070-3333-4444")
    assert err.value.code == "sms_limit_office" and err.value.status == 429
    assert len(await outbox.list(OFFICE)) == 3  # a refusal leaves no trace
    clock.advance(24 * 3600)  # a new day in Kitakyushu
    await enqueue(outbox)


async def test_landlines_and_foreign_numbers_get_no_sms(outbox: SmsOutbox) -> None:
    with pytest.raises(MadoguchiError) as err:
        await enqueue(outbox, to="093-582-1111")
    assert err.value.code == "not_mobile" and err.value.status == 422
    with pytest.raises(MadoguchiError) as err:
        await enqueue(outbox, to="+1 202 555 0100")
    assert err.value.code == "invalid_phone"
    # For a script that queues its own SMS: no message, and no error.
    assert outbox.argv("093-582-1111", "confirmation", "ja", {}, "b") == [""] * SMS_ARGC
    with pytest.raises(MadoguchiError):
        outbox.argv(MOBILE, "spam", "ja", {}, "b")
    assert await outbox.list(OFFICE) == []


def test_lua_argc_matches_python() -> None:
    include = Path(INCLUDES[-1]).read_text()
    assert f"local SMS_ARGC = {SMS_ARGC}" in include


async def test_another_script_queues_sms_atomically(outbox: SmsOutbox, redis: Redis) -> None:
    """What a booking script does: its own change and the SMS in one step.
    Two messages, one of them for a landline (an empty slot: skipped)."""
    body = """
      redis.call("SET", P .. "booking-marker", "1")
      local queued = {}
      for _, at in ipairs({6, 6 + SMS_ARGC}) do
        local m = sms_from_argv(at)
        if m then
          local err, view = sms_enqueue(m)
          if err then return fail(err) end
          queued[#queued + 1] = view["id"]
        end
      end
      return ok({queued = queued})
    """
    source = "\n".join([*(f.read_text() for f in INCLUDES), body])
    keys = outbox.keys(OFFICE)
    args = [keys.prefix, OFFICE, int(outbox.clock() * 1000), "2026-11-27T10:00:00.000+09:00",
            10_000,
            *outbox.argv(MOBILE, "confirmation", "en", {"slot": SLOT, "link": LINK}, "b-9"),
            *outbox.argv("093-582-1111", "confirmation", "ja", {}, "b-9")]
    result = json.loads(await redis.eval(source, 1, keys.k("sms:due"), *args))
    assert len(result["queued"]) == 1
    listed = await outbox.list(OFFICE)
    assert [m["id"] for m in listed] == result["queued"]
    assert listed[0]["to"].endswith("5678") and MOBILE not in json.dumps(listed)
    assert "link" not in listed[0]["params"]  # the manage link is a capability


# -- the sender against the fake Twilio ---------------------------------------------


async def test_office_sms_texts_replace_the_catalog_in_their_language(
    outbox: SmsOutbox, make_sender: SenderFactory, fake: FakeTwilio, office_engine: Engine
) -> None:
    office = small_office(OFFICE).model_dump(by_alias=True)
    office["sms_texts"] = {"en": {"confirmation": "{office}: see you {slot}. {link}"}}
    await office_engine.configure(Office.model_validate(office))
    await enqueue(outbox, lang="en")
    await enqueue(outbox, to="080-9876-5432", lang="ja")  # no Japanese text of its own
    sender = await make_sender(outbox)
    assert (await sender.run_once(OFFICE)).sent == 2
    (en,) = fake.to(MOBILE)
    body = en["Body"]
    assert body.startswith("Test Ward Office: see you ") and body.endswith(f". {PUBLIC}{LINK}")
    assert "10:30" in body and "{" not in body  # the slot still formatted by the catalog
    (ja,) = fake.to("+818098765432")
    assert ja["Body"].startswith("【テスト区役所】ご予約を受け付けました。")


async def test_sender_sends_in_the_message_language(
    outbox: SmsOutbox, make_sender: SenderFactory, fake: FakeTwilio
) -> None:
    ja = await enqueue(outbox)
    ko = await enqueue(outbox, to="080-9876-5432", lang="ko")
    come = await outbox.enqueue(OFFICE, "070-1111-2222", "come_now", "en",
                                {"number": "B-007", "link": "/t/x.y"}, "t-7")
    sender = await make_sender(outbox)
    outcome = await sender.run_once(OFFICE)
    assert (outcome.claimed, outcome.sent) == (3, 3)

    (m_ja,) = fake.to(MOBILE)
    assert m_ja["From"] == FROM
    assert m_ja["StatusCallback"] == PUBLIC + "/twilio/sms-status"
    assert m_ja["Body"] == (f"【テスト区役所】ご予約を受け付けました。11月28日(土)10:30。"
                            f"確認・取消：{PUBLIC}{LINK}")
    (m_ko,) = fake.to("+818098765432")  # no Korean office name configured: the Japanese one
    assert m_ko["Body"] == (f"[テスト区役所] 예약이 접수되었습니다. 11월 28일(토) 10:30. "
                            f"확인·취소: {PUBLIC}{LINK}")
    (m_en,) = fake.to("+817011112222")
    assert m_en["Body"] == ("[Test Ward Office] Number B-007: it is your turn. Please come now "
                            f"and check in: {PUBLIC}/t/x.y")

    for queued, message in ((ja, m_ja), (ko, m_ko), (come, m_en)):
        record = await outbox.get(OFFICE, queued["id"])
        assert record is not None
        assert record["state"] == "sent" and record["sid"] == message["sid"]
    assert (await sender.run_once(OFFICE)).claimed == 0


async def test_server_errors_and_timeouts_retry_with_backoff(
    outbox: SmsOutbox, make_sender: SenderFactory, fake: FakeTwilio, clock: ManualClock
) -> None:
    queued = await enqueue(outbox)
    sender = await make_sender(outbox)
    fake.fail_next(1, status=500)
    fake.hang_next(1)

    assert (await sender.run_once(OFFICE)).retry == 1  # 500
    record = await outbox.get(OFFICE, queued["id"])
    assert record is not None
    assert (record["state"], record["attempts"], record["error"]) == ("queued", "1",
                                                                       "twilio 500/20500")
    assert int(record["not_before"]) == int((clock() + 30) * 1000)
    assert (await sender.run_once(OFFICE)).claimed == 0  # waits its 30 s
    clock.advance(29)
    assert (await sender.run_once(OFFICE)).claimed == 0
    clock.advance(1)

    assert (await sender.run_once(OFFICE)).retry == 1  # hangs: timeout
    record = await outbox.get(OFFICE, queued["id"])
    assert record is not None
    assert (record["state"], record["attempts"], record["error"]) == ("queued", "2", "timeout")
    assert int(record["not_before"]) == int((clock() + 120) * 1000)  # 2 minutes now
    clock.advance(120)

    assert (await sender.run_once(OFFICE)).sent == 1
    assert fake.requests == 3 and len(fake.messages) == 1
    record = await outbox.get(OFFICE, queued["id"])
    assert record is not None and record["state"] == "sent" and record["attempts"] == "3"


async def test_failed_after_max_attempts_and_visible_to_staff(
    outbox: SmsOutbox, make_sender: SenderFactory, fake: FakeTwilio, clock: ManualClock
) -> None:
    queued = await enqueue(outbox)
    sender = await make_sender(outbox)
    fake.fail_next(10, status=503, code=20503)
    waits = []
    for _ in range(outbox.max_attempts):
        outcome = await sender.run_once(OFFICE)
        assert outcome.claimed == 1
        record = await outbox.get(OFFICE, queued["id"])
        assert record is not None
        if record["state"] == "failed":
            break
        waits.append(int(record["not_before"]) / 1000 - clock())
        clock.advance(waits[-1])
    assert waits == [30, 120, 600]  # then the 4th (last) attempt fails for good
    assert fake.requests == outbox.max_attempts == 4
    clock.advance(24 * 3600)
    assert (await sender.run_once(OFFICE)).claimed == 0  # not lost, not retried forever
    (failed,) = await outbox.list(OFFICE, state="failed")
    assert failed["id"] == queued["id"] and failed["error"] == "twilio 503/20503"
    assert failed["to"] == "•••••••••5678" and failed["attempts"] == 4


async def test_twilio_refusal_is_final(
    outbox: SmsOutbox, make_sender: SenderFactory, fake: FakeTwilio
) -> None:
    queued = await enqueue(outbox)
    sender = await make_sender(outbox)
    fake.fail_next(1, status=400, code=21211)  # invalid 'To' number
    assert (await sender.run_once(OFFICE)).failed == 1
    record = await outbox.get(OFFICE, queued["id"])
    assert record is not None
    assert (record["state"], record["error"]) == ("failed", "twilio 400/21211")


async def test_concurrent_senders_send_each_message_once(
    redis: Redis, clean_tenant: str, clock: ManualClock, make_sender: SenderFactory,
    fake: FakeTwilio
) -> None:
    phones = [f"+81901234{n:04d}" for n in range(40)]
    first = SmsOutbox(redis, clean_tenant, clock)
    for phone in phones:
        await first.enqueue(OFFICE, phone, "confirmation", "ja", {"slot": SLOT}, "b")
    senders = [await make_sender(SmsOutbox(redis, clean_tenant, clock), batch=4)
               for _ in range(3)]

    async def drain(sender: SmsSender) -> int:
        sent = 0
        while (outcome := await sender.run_once(OFFICE)).claimed:
            sent += outcome.sent
        return sent

    counts = await asyncio.gather(*(drain(s) for s in senders))
    assert sum(counts) == len(phones)
    assert sorted(m["To"] for m in fake.messages) == sorted(phones)  # each exactly once
    assert all(c > 0 for c in counts), counts  # they really did share the work
    assert {m["state"] for m in await first.list(OFFICE)} == {"sent"}


async def test_delivery_report_before_the_senders_own_result(
    outbox: SmsOutbox, redis: Redis
) -> None:
    queued = await enqueue(outbox)
    (claimed,) = await outbox.claim(OFFICE, 1)
    sid = "SM" + secrets.token_hex(16)
    # Twilio's callback overtakes the sender's "sent" (the SID is indexed first).
    await redis.set(sid_key(outbox.tenant, sid), json.dumps({"office": OFFICE,
                                                             "id": queued["id"]}))
    assert (await outbox.status_callback(sid, "delivered") or {})["state"] == "delivered"
    after = await outbox.sent(OFFICE, queued["id"], sid, claimed.attempt)
    assert after["state"] == "delivered"
    assert (await outbox.status_callback(sid, "sent") or {})["state"] == "delivered"
    assert await outbox.status_callback("SM" + "0" * 32, "delivered") is None


# -- webhooks -------------------------------------------------------------------------------


def settings_for(tenant: str, **extra: Any) -> Settings:
    return Settings(tenant=tenant, public_base_url=PUBLIC, twilio_account_sid=ACCOUNT_SID,
                    twilio_auth_token=AUTH_TOKEN, **extra)


@pytest.fixture
async def web(redis: Redis, tenant: str) -> AsyncIterator[AppHarness]:
    """The app with the webhooks (auth token set, sending off: no sender)."""
    async with app_harness(redis, tenant, small_office(OFFICE),
                           settings=settings_for(tenant)) as harness:
        yield harness


async def post_form(web: AppHarness, path: str, params: dict[str, str],
                    headers: dict[str, str] | None = None) -> tuple[int, str, str]:
    async with web.client.post(path, data=params, headers=headers or {}) as resp:
        return resp.status, resp.content_type, await resp.text()


async def sent_message(web: AppHarness) -> tuple[SmsOutbox, str, str]:
    outbox = web.app[SMS].outbox
    queued = await enqueue(outbox)
    (claimed,) = await outbox.claim(OFFICE, 1)
    sid = "SM" + secrets.token_hex(16)
    await outbox.sent(OFFICE, claimed.id, sid, claimed.attempt)
    return outbox, queued["id"], sid


async def test_status_callback_signed(web: AppHarness) -> None:
    assert web.app[SMS].sender is None
    outbox, msg_id, sid = await sent_message(web)
    url = PUBLIC + "/twilio/sms-status"
    params = {"MessageSid": sid, "SmsSid": sid, "MessageStatus": "delivered",
              "AccountSid": ACCOUNT_SID, "To": MOBILE, "From": FROM, "ApiVersion": "2010-04-01"}
    status, _, _ = await post_form(web, "/twilio/sms-status", params, signed(url, params))
    assert status == 204
    record = await outbox.get(OFFICE, msg_id)
    assert record is not None and record["state"] == "delivered"


async def test_status_callback_undelivered_keeps_error_code(web: AppHarness) -> None:
    outbox, _, sid = await sent_message(web)
    url = PUBLIC + "/twilio/sms-status"
    params = {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    status, _, _ = await post_form(web, "/twilio/sms-status", params, signed(url, params))
    assert status == 204
    (listed,) = await outbox.list(OFFICE, state="undelivered")
    assert listed["error_code"] == "30003"


async def test_unsigned_or_missigned_callbacks_are_refused(web: AppHarness) -> None:
    outbox, msg_id, sid = await sent_message(web)
    params = {"MessageSid": sid, "MessageStatus": "delivered"}
    public = PUBLIC + "/twilio/sms-status"
    seen_by_app = str(web.client.make_url("/twilio/sms-status"))
    attempts = [
        {},  # unsigned
        {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"},
        signed(public, params, token="another-account-token"),
        signed(seen_by_app, params),  # the URL behind the proxy is not what Twilio signs
        signed(public, {**params, "MessageStatus": "failed"}),  # tampered body
    ]
    for headers in attempts:
        status, content_type, text = await post_form(web, "/twilio/sms-status", params, headers)
        assert status == 403 and content_type == "application/json", (headers, status)
        assert json.loads(text)["error"]["code"] == "invalid_signature"
    record = await outbox.get(OFFICE, msg_id)
    assert record is not None and record["state"] == "sent"


@pytest.fixture
def cancel_calls() -> Iterator[list[str]]:
    calls: list[str] = []
    yield calls
    set_inbound_cancel_handler(None)


@pytest.mark.parametrize(("body", "lang"), [
    ("キャンセル", "ja"), ("ｷｬﾝｾﾙ", "ja"), (" cancel ", "en"), ("CANCEL", "en"),
    ("취소", "ko"), ("取消", "zh-Hans"), ("HỦY", "vi"), ("huỷ", "vi"), ("Huy.", "vi"),
    ("キャンセル。", "ja"),
])
def test_cancel_words(body: str, lang: str) -> None:
    assert cancel_word_lang(body) == lang


@pytest.mark.parametrize("body", ["", "こんにちは", "cancelled", "キャンセル待ち", "STOP"])
def test_not_cancel_words(body: str) -> None:
    assert cancel_word_lang(body) is None


async def test_inbound_cancel_calls_the_booking_handler(
    web: AppHarness, cancel_calls: list[str]
) -> None:
    async def handler(app: Any, phone: str) -> CancelResult:
        assert app is web.app
        cancel_calls.append(phone)
        return CancelResult(1, lang="ko", params={"slot": SLOT})

    set_inbound_cancel_handler(handler)
    url = PUBLIC + "/twilio/sms-inbound"
    params = {"MessageSid": "SM" + "9" * 32, "From": MOBILE, "To": FROM, "Body": "CANCEL",
              "NumMedia": "0"}
    status, content_type, text = await post_form(web, "/twilio/sms-inbound", params,
                                                 signed(url, params))
    assert status == 200 and content_type in ("application/xml", "text/xml")
    assert cancel_calls == [MOBILE]
    assert re.fullmatch(r'(<\?xml[^>]*\?>)?<Response><Message>예약\(11월 28일\(토\) 10:30\)이 '
                        r'취소되었습니다\.</Message></Response>', text), text

    # Nothing to cancel: said in the language of the keyword.
    set_inbound_cancel_handler(lambda app, phone: _result(0))
    params = {**params, "Body": "キャンセル"}
    _, _, text = await post_form(web, "/twilio/sms-inbound", params, signed(url, params))
    assert render("inbound_nothing", "ja", {}) in text

    # Not a keyword: an empty answer, the handler is not asked.
    params = {**params, "Body": "ありがとう"}
    _, _, text = await post_form(web, "/twilio/sms-inbound", params, signed(url, params))
    assert text.endswith(("<Response />", "<Response/>")) and cancel_calls == [MOBILE]

    # Unsigned: refused, the handler is not asked.
    params = {**params, "Body": "キャンセル"}
    status, _, _ = await post_form(web, "/twilio/sms-inbound", params)
    assert status == 403 and cancel_calls == [MOBILE]


async def _result(n: int) -> int:
    return n


async def test_inbound_cancel_default_cancels_the_next_booking(
    web: AppHarness, cancel_calls: list[str]
) -> None:
    """Without a custom handler the web app cancels the sender's next
    booking (in any office) and says so in the booking's language."""
    from queue_server.context import CONTEXT
    from tests.test_api_bookings import next_open_day
    from tests.test_bookings import booking_office

    await web.engine.configure(booking_office())
    day = next_open_day()
    bookings = web.app[CONTEXT].bookings
    later = await bookings.book("bookoffice", "mynumber",
                                datetime.fromisoformat(f"{day}T10:00:00+09:00"), MOBILE)
    first = await bookings.book("bookoffice", "mynumber",
                                datetime.fromisoformat(f"{day}T09:00:00+09:00"), MOBILE,
                                lang="vi")
    url = PUBLIC + "/twilio/sms-inbound"
    params = {"From": MOBILE, "To": FROM, "Body": "HỦY"}
    status, _, text = await post_form(web, "/twilio/sms-inbound", params, signed(url, params))
    assert status == 200 and "<Message>" in text
    assert (await bookings.view(first.token))["status"] == "cancelled"
    assert (await bookings.view(later.token))["status"] == "booked"
    params = {"From": "+818011112222", "To": FROM, "Body": "취소"}
    _, _, text = await post_form(web, "/twilio/sms-inbound", params, signed(url, params))
    assert render("inbound_nothing", "ko", {}) in text


# -- the sender inside the web process -------------------------------------------------------


async def test_web_process_runs_the_sender(redis: Redis, tenant: str, fake: FakeTwilio) -> None:
    settings = settings_for(tenant, twilio_from=FROM, twilio_api_base=fake.base_url,
                            sms_poll_ms=50)
    async with app_harness(redis, tenant, small_office(OFFICE), settings=settings) as web:
        runtime = web.app[SMS]
        assert runtime.sender is not None
        queued = await runtime.outbox.enqueue(OFFICE, MOBILE, "confirmation", "vi",
                                              {"slot": SLOT, "link": LINK}, "b-1")
        (message,) = await fake.wait_for_messages(1)
        assert message["To"] == MOBILE and message["From"] == FROM
        assert message["Body"] == (f"[テスト区役所] Đã nhận lịch hẹn của quý khách: "
                                   f"10:30 T7 28/11. Xem hoặc hủy: {PUBLIC}{LINK}")
        # Stopping lets the round in progress finish: "sent" is recorded.
        runtime.sender.stop()
        assert runtime.task is not None
        await asyncio.wait_for(runtime.task, 5)
        record = await runtime.outbox.get(OFFICE, queued["id"])
        assert record is not None and record["state"] == "sent"
        assert record["sid"] == message["sid"]
        # Twilio reports delivery to the public URL; the app records it.
        url = PUBLIC + "/twilio/sms-status"
        params = {"MessageSid": message["sid"], "MessageStatus": "delivered"}
        status, _, _ = await post_form(web, "/twilio/sms-status", params, signed(url, params))
        assert status == 204
        record = await runtime.outbox.get(OFFICE, queued["id"])
        assert record is not None and record["state"] == "delivered"
        # Staff see the state (number masked, no link); nobody else does.
        listed = await web.ok("GET", web.path("/sms?ref=b-1"), role="staff")
        (seen,) = listed["messages"]
        assert (seen["id"], seen["state"], seen["kind"]) == (queued["id"], "delivered",
                                                             "confirmation")
        assert seen["to"].endswith("5678") and "1234" not in seen["to"]
        assert "link" not in seen["params"] and LINK not in str(listed)
        assert (await web.ok("GET", web.path("/sms?ref=other"), role="staff"))["messages"] == []
        for role in (None, "kiosk", "display"):
            status, _ = await web.request("GET", web.path("/sms"), role=role)
            assert status in (401, 403)


async def test_without_twilio_settings_sms_is_off(
    redis: Redis, tenant: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="madoguchi.sms")
    async with app_harness(redis, tenant, small_office(OFFICE),
                           settings=Settings(tenant=tenant)) as web:
        assert web.app[SMS].sender is None
        assert sum("sms sending off" in r.getMessage() for r in caplog.records) == 1
        params = {"MessageSid": "SM1", "MessageStatus": "delivered"}
        url = "http://127.0.0.1:8080/twilio/sms-status"
        status, _, _ = await post_form(web, "/twilio/sms-status", params, signed(url, params))
        assert status == 403  # no auth token: nothing can be verified, nothing accepted
