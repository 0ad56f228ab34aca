"""A local fake of Twilio's REST API for SMS, driven by the real `twilio`
client (point it here with ``client.api.base_url``).

Speaks ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` (form
fields To, From, Body, StatusCallback; HTTP basic auth with the account SID
and auth token) and answers 201 with a JSON message resource that carries a
fresh ``SM…`` sid, the way api.twilio.com does. It records what it accepted,
and can be told to fail (any status, with a Twilio error code) or to hang
(never answer until closed) for the next N requests.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
from collections import deque
from dataclasses import dataclass
from typing import Any

from aiohttp import web

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "fake-auth-token-" + "x" * 16


@dataclass(frozen=True)
class Fault:
    status: int  # 0 = hang
    code: int = 0


def _error(status: int, code: int, message: str) -> web.Response:
    return web.json_response(
        {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
         "status": status}, status=status)


class FakeTwilio:
    def __init__(self, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.messages: list[dict[str, str]] = []  # accepted, in order
        self.requests = 0  # every POST to Messages.json, accepted or not
        self._faults: deque[Fault] = deque()
        self._changed = asyncio.Condition()
        self._release = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # -- control --------------------------------------------------------

    def fail_next(self, n: int = 1, status: int = 500, code: int = 20500) -> None:
        self._faults.extend(Fault(status, code) for _ in range(n))

    def hang_next(self, n: int = 1) -> None:
        self._faults.extend(Fault(0) for _ in range(n))

    async def wait_for_messages(self, n: int, within: float = 10.0) -> list[dict[str, str]]:
        """Until at least `n` messages were accepted (fails after `within` s)."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(self.messages) >= n),
                                   within)
        return list(self.messages)

    def to(self, number: str) -> list[dict[str, str]]:
        return [m for m in self.messages if m["To"] == number]

    # -- server -----------------------------------------------------------

    async def start(self) -> FakeTwilio:
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", self._create)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def close(self) -> None:
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def _authorised(self, request: web.Request) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return request.headers.get("Authorization") == f"Basic {expected}"

    async def _create(self, request: web.Request) -> web.Response:
        self.requests += 1
        if request.match_info["sid"] != self.account_sid or not self._authorised(request):
            return _error(401, 20003, "Authenticate")
        form = await request.post()
        fault = self._faults.popleft() if self._faults else None
        if fault is not None and fault.status == 0:
            await self._release.wait()  # hang until the fake closes
            return _error(503, 20503, "Service unavailable")
        if fault is not None:
            return _error(fault.status, fault.code, "Fault injected by the test")
        fields = {k: str(v) for k, v in form.items()}
        if not fields.get("To") or not fields.get("Body") or not fields.get("From"):
            return _error(400, 21604, "A 'To' phone number, 'From' and 'Body' are required.")
        sid = "SM" + secrets.token_hex(16)
        message = {**fields, "sid": sid}
        async with self._changed:
            self.messages.append(message)
            self._changed.notify_all()
        body: dict[str, Any] = {
            "sid": sid, "account_sid": self.account_sid, "to": fields["To"],
            "from": fields["From"], "body": fields["Body"], "status": "queued",
            "num_segments": "1", "direction": "outbound-api", "api_version": "2010-04-01",
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        }
        return web.json_response(body, status=201)
