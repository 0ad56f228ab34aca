"""The admin pages' ticket preview: the office's own ticket as a PNG."""

from __future__ import annotations

import io

from PIL import Image

from tests.servers import AppHarness


async def test_ticket_preview_is_the_printed_raster(api: AppHarness) -> None:
    path = api.path("/ticket-preview.png")
    async with api.client.get(path, headers=await api.auth("admin")) as resp:
        assert resp.status == 200 and resp.content_type == "image/png"
        image = Image.open(io.BytesIO(await resp.read()))
    assert image.mode == "1" and image.width == 512 and image.height > 400
    async with api.client.get(path + "?lang=ko", headers=await api.auth("admin")) as resp:
        korean = await resp.read()
    assert Image.open(io.BytesIO(korean)).height > image.height  # a second line per text
    for role, status in ((None, 401), ("staff", 403), ("kiosk", 403)):
        code, _ = await api.request("GET", path, role=role)
        assert code == status, role


async def test_ticket_preview_language_is_never_a_silent_guess(api: AppHarness) -> None:
    path = api.path("/ticket-preview.png")
    headers = await api.auth("admin")
    for asked, used in (("", "ja"), ("?lang=en-US", "en"), ("?lang=zh-CN", "zh-Hans"),
                        ("?lang=ja-JP", "ja"), ("?lang=ko", "ko"), ("?lang=ja-easy", "ja")):
        async with api.client.get(path + asked, headers=headers) as resp:
            assert resp.status == 200, asked
            assert resp.headers["Content-Language"] == used, asked
    for asked in ("xx", "fr", "zh-TW", "en;DROP"):
        async with api.client.get(path, params={"lang": asked}, headers=headers) as resp:
            assert resp.status == 422, asked
            error = (await resp.json())["error"]
        assert error["code"] == "unsupported_language"
        assert error["details"]["supported"] == ["ja", "en", "ko", "zh-Hans", "vi", "ja-easy"]
