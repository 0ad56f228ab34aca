"""GET /api/v1/offices/{office}/announcement and /audio/… (displays/announce_web.py)
on the real app, Redis, pyttsx3 and espeak-ng: audio for recent calls only,
texts in the office's display languages, errors as JSON, never a 500."""

from __future__ import annotations

import asyncio
import ctypes.util
import itertools
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from displays.announce_web import ANNOUNCE
from displays.tts import check_wav, chime_wav
from queue_server.office_config import Office
from queue_server.settings import Settings
from tests.conftest import small_office
from tests.servers import AppHarness, app_harness

LANGUAGES = ["ja", "vi", "en", "ko", "zh-Hans"]  # spoken in this order
AUDIO_URL = re.compile(r"^/audio/[0-9a-f]{64}\.wav$")


@pytest.fixture(autouse=True)
def espeak_ng() -> None:
    if ctypes.util.find_library("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")


def office() -> Office:
    base = small_office()
    return base.model_copy(update={"display": base.display.model_copy(
        update={"languages": LANGUAGES})})


@pytest.fixture
async def api(redis: Redis, tenant: str, tmp_path: Path) -> AsyncIterator[AppHarness]:
    settings = Settings(tenant=tenant, var_dir=tmp_path / "var")
    async with app_harness(redis, tenant, office(), settings=settings) as harness:
        yield harness


def url(api: AppHarness, number: str, counter: str = "1", recall: str | None = None) -> str:
    query = f"?number={number}&counter={counter}"
    if recall is not None:
        query += f"&recall={recall}"
    return api.path("/announcement") + query


async def call(api: AppHarness, counter: str = "1") -> str:
    """Open the counter, issue a ticket of its first service and call it."""
    await api.act(counter, "open")
    await api.issue("shomei")
    called = await api.act(counter, "call-next")
    return str(called["number"])


async def download(api: AppHarness, path: str) -> tuple[int, dict[str, str], bytes]:
    async with api.client.get(path) as resp:
        return resp.status, dict(resp.headers), await resp.read()


def assert_wav(data: bytes, tmp: Path) -> None:
    tmp.write_bytes(data)
    assert check_wav(tmp) is not None


async def test_a_recent_call_gets_text_and_audio(api: AppHarness, tmp_path: Path) -> None:
    number = await call(api)
    assert number == "A-001"
    body = await api.ok("GET", url(api, number))
    assert set(body) == {"office", "number", "counter", "recall", "chime", "items"}
    assert (body["office"], body["number"], body["counter"], body["recall"]) == (
        api.office, "A-001", "1", False)
    assert body["chime"] == "/audio/chime.wav"
    assert [item["lang"] for item in body["items"]] == LANGUAGES
    texts = {item["lang"]: item["text"] for item in body["items"]}
    assert texts["ja"] == ("うけつけばんごう エーの いちばんの かた、いちばんまどぐちまで "
                           "おこしください。")
    assert texts["en"] == "Ticket A1, please go to Counter 1."
    assert texts["vi"] == "Mời khách hàng số A một đến quầy số một."
    for item in body["items"]:
        assert set(item) == {"lang", "text", "audio"}
        assert item["audio"] and AUDIO_URL.match(item["audio"]), item
        status, headers, data = await download(api, item["audio"])
        assert status == 200 and headers["Content-Type"] == "audio/wav"
        assert "immutable" in headers["Cache-Control"]
        assert_wav(data, tmp_path / f"{item['lang']}.wav")
    # The same request again: the same files, from the cache.
    runtime = api.app[ANNOUNCE]
    made = runtime.synth.synthesized
    again = await api.ok("GET", url(api, "A1"))  # any spelling of the number
    assert again["number"] == "A-001"
    assert [i["audio"] for i in again["items"]] == [i["audio"] for i in body["items"]]
    assert runtime.synth.synthesized == made == len(LANGUAGES)


async def test_a_recall_has_its_own_text(api: AppHarness) -> None:
    number = await call(api)
    await api.act("1", "recall")
    body = await api.ok("GET", url(api, number, recall="1"))
    assert body["recall"] is True
    texts = {item["lang"]: item["text"] for item in body["items"]}
    assert texts["ja"].startswith("さいど およびします。")
    assert texts["en"].startswith("Calling again.")
    assert all(item["audio"] for item in body["items"])
    plain = await api.ok("GET", url(api, number, recall="0"))
    assert plain["recall"] is False
    assert {i["audio"] for i in plain["items"]}.isdisjoint({i["audio"] for i in body["items"]})


async def test_no_audio_unless_the_call_is_recent(api: AppHarness) -> None:
    await call(api)
    runtime = api.app[ANNOUNCE]
    for number, counter in (("A-002", "1"), ("A-001", "2"), ("B-001", "1")):
        body = await api.ok("GET", url(api, number, counter))
        assert [item["audio"] for item in body["items"]] == [None] * len(LANGUAGES)
        assert all(item["text"] for item in body["items"])  # the browser speaks these
    assert runtime.synth.synthesized == 0


@pytest.mark.parametrize(("query", "status", "code"), [
    ("number=&counter=1", 400, "bad_request"),
    ("counter=1", 400, "bad_request"),
    ("number=A-0000&counter=1", 400, "bad_request"),
    ("number=A-000&counter=1", 400, "bad_request"),
    ("number=AA-001&counter=1", 400, "bad_request"),
    ("number=A-001%3B&counter=1", 400, "bad_request"),
    ("number=A-001", 400, "bad_request"),
    ("number=A-001&counter=1&recall=2", 400, "bad_request"),
    ("number=A-001&counter=99", 404, "unknown_counter"),
    ("number=Z-001&counter=1", 404, "unknown_service"),
])
async def test_bad_requests(api: AppHarness, query: str, status: int, code: str) -> None:
    got, body = await api.request("GET", api.path("/announcement") + "?" + query)
    assert got == status, body
    assert body["error"]["code"] == code


@pytest.mark.parametrize("office_id", ["nosuchoffice", "Bad!Office"])
async def test_unknown_office(api: AppHarness, office_id: str) -> None:
    got, body = await api.request(
        "GET", f"/api/v1/offices/{office_id}/announcement?number=A-001&counter=1")
    assert got == 404 and body["error"]["code"] == "unknown_office"


async def test_audio_files(api: AppHarness, tmp_path: Path) -> None:
    status, headers, data = await download(api, "/audio/chime.wav")
    assert status == 200 and headers["Content-Type"] == "audio/wav"
    assert data == chime_wav()
    assert_wav(data, tmp_path / "chime.wav")
    for path in ("/audio/" + "0" * 64 + ".wav", "/audio/ABC.wav", "/audio/../../etc/passwd",
                 "/audio/%2e%2e%2fvar.wav", "/audio/" + "a" * 63 + ".wav"):
        status, headers, data = await download(api, path)
        assert status == 404, path
        assert headers["Content-Type"].startswith("application/json"), path


async def test_slow_or_failed_synthesis_gives_null_audio(api: AppHarness) -> None:
    number = await call(api)
    runtime = api.app[ANNOUNCE]
    await runtime.synth.voices()  # the worker is up
    runtime.timeout = 0.0  # nothing can be made in no time
    body = await api.ok("GET", url(api, number))
    assert [item["audio"] for item in body["items"]] == [None] * len(LANGUAGES)
    # The syntheses went on: the next request joins them (no second
    # synthesis) and gets the files.
    runtime.timeout = 10.0
    body = await api.ok("GET", url(api, number))
    assert all(item["audio"] for item in body["items"])
    assert runtime.synth.synthesized == len(LANGUAGES)
    # Output that fails the check (here: any, with an impossible threshold).
    runtime.synth.min_rms = 1e9
    body = await api.ok("GET", url(api, number, recall="1"))
    assert [item["audio"] for item in body["items"]] == [None] * len(LANGUAGES)


async def test_concurrent_requests_share_one_synthesis(api: AppHarness) -> None:
    number = await call(api)
    bodies: list[Any] = await asyncio.gather(*(api.ok("GET", url(api, number))
                                               for _ in range(4)))
    first = [item["audio"] for item in bodies[0]["items"]]
    assert all(first)
    assert all([item["audio"] for item in b["items"]] == first for b in bodies)
    synth = api.app[ANNOUNCE].synth
    assert synth.synthesized == len(LANGUAGES)
    runs = sorted(synth.history)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(runs))


async def test_documented_in_openapi(api: AppHarness) -> None:
    doc = await api.ok("GET", "/api/v1/openapi.json")
    op = doc["paths"]["/api/v1/offices/{office}/announcement"]["get"]
    assert {p["name"] for p in op["parameters"]} == {"office", "number", "counter", "recall"}
    assert {"200", "400", "404"} <= set(op["responses"])

