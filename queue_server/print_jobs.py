"""Ticket print jobs for the kiosk agents (DESIGN §2, §9).

The kiosk page asks for its ticket to be printed; the job waits in Redis,
per kiosk, until the kiosk agent (``madoguchi kiosk-agent``, connected out
over ``/ws/kiosk-agent``) acknowledges it, so a job survives a disconnect.
Job ids are ticket ids (a reprint adds ``:r<n>``) and acknowledged ids are
remembered for a day: a job is printed once however often it is asked for
or re-sent. Printer states reach staff as ``printer.status`` /
``print.done`` events and through ``printers()``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from .clock import iso, zone
from .engine import Engine
from .errors import MadoguchiError
from .office_config import Office

JOB_TTL_SECONDS = 24 * 3600
DEDUP_SECONDS = 24 * 3600
STATES = ("ok", "paper_end", "paper_near_end", "cover_open", "offline", "unknown", "error",
          "disconnected")


def job_payload(office: Office, ticket: dict[str, Any], public_base_url: str,
                now: float) -> dict[str, Any]:
    """What the printer needs for one ticket, in the ticket's language. The
    smartphone URL carries the ticket id: the payload never leaves the
    server except to the kiosk's own agent."""
    lang = ticket.get("lang") or "ja"
    service = office.service(ticket["service"])
    wait = ticket.get("estimated_wait_minutes")
    come_back_by = None
    if ticket.get("come_back_by"):
        # A held ticket: the time it was given (the forecast's low quantile,
        # never past); it is not called before the citizen is back.
        back = datetime.fromisoformat(ticket["come_back_by"]).astimezone(zone(office.timezone))
        come_back_by = back.strftime("%H:%M")
    footer = office.ticket.footer
    return {
        "number": ticket["number"],
        "lang": lang,
        "office": {"ja": office.names.ja, "local": office.names.get(lang)},
        "service": {"ja": service.names.ja if service else ticket["service"],
                    "local": service.names.get(lang) if service else ticket["service"]},
        "ahead": ticket.get("ahead"),
        "wait_minutes": wait,
        "come_back_by": come_back_by,
        "url": f"{public_base_url.rstrip('/')}/t/{ticket['id']}",
        "issued_at": iso(now, office.timezone),
        "konbini": bool(service and service.konbini),
        "footer": footer.get(lang) if footer else "",
        "wareki": office.ticket.wareki,
    }


class PrintJobs:
    def __init__(self, engine: Engine, public_base_url: str) -> None:
        self.engine = engine
        self.public_base_url = public_base_url

    def _keys(self, office: str, kiosk: str) -> tuple[str, str]:
        k = self.engine.keys(office)
        return k.k(f"pj:{kiosk}"), k.k(f"pjq:{kiosk}")

    async def print_ticket(self, office_id: str, kiosk: str, ticket_id: str,
                           reprint: bool = False) -> dict[str, Any]:
        """Queue the ticket for `kiosk`'s printer. A reprint (staff) gets a new
        job id; a first print is queued once per ticket."""
        office = await self.engine.office(office_id)
        ticket = await self.engine.ticket(ticket_id)
        if ticket["office"] != office_id:
            raise MadoguchiError("unknown_ticket")
        job = ticket_id
        if reprint:
            n = await self.engine.redis.incr(self.engine.keys(office_id).k(f"reprints:{ticket_id}"))
            await self.engine.redis.expire(self.engine.keys(office_id).k(f"reprints:{ticket_id}"),
                                           JOB_TTL_SECONDS)
            job = f"{ticket_id}:r{n}"
        payload = job_payload(office, ticket, self.public_base_url, self.engine.clock())
        result = await self.engine.run_script(
            office, "print_enqueue", kiosk, job,
            json.dumps(payload, ensure_ascii=False, separators=(",", ":")), JOB_TTL_SECONDS,
        )
        return {"job": job, "queued": bool(result["queued"]), "kiosk": kiosk}

    async def pending(self, office_id: str, kiosk: str) -> list[dict[str, Any]]:
        """Unacknowledged jobs of a kiosk, oldest first."""
        jobs_key, queue_key = self._keys(office_id, kiosk)
        ids = [i.decode() for i in await self.engine.redis.zrange(queue_key, 0, -1)]
        if not ids:
            return []
        payloads = await self.engine.redis.hmget(jobs_key, ids)
        return [{"id": i, "ticket": json.loads(p)} for i, p in zip(ids, payloads, strict=True)
                if p is not None]

    async def ack(self, office_id: str, kiosk: str, job: str, printed: bool, state: str,
                  detail: dict[str, Any] | None = None) -> bool:
        office = await self.engine.office(office_id)
        result = await self.engine.run_script(
            office, "print_ack", kiosk, job, "printed" if printed else "failed",
            _state(state), json.dumps(detail or {}, separators=(",", ":")), DEDUP_SECONDS,
        )
        return bool(result["changed"])

    async def report_status(self, office_id: str, kiosk: str, state: str,
                            detail: dict[str, Any] | None = None, label: str = "") -> bool:
        office = await self.engine.office(office_id)
        result = await self.engine.run_script(
            office, "printer_status", kiosk, _state(state),
            json.dumps(detail or {}, separators=(",", ":")), label,
        )
        return bool(result["changed"])

    async def printers(self, office_id: str) -> list[dict[str, Any]]:
        """Staff: every kiosk of the office with its printer state, waiting
        jobs and failed tickets (to reprint)."""
        office = await self.engine.office(office_id)
        keys = self.engine.keys(office_id)
        redis = self.engine.redis
        out = []
        for raw in sorted(await redis.smembers(keys.k("kiosks"))):
            kiosk = raw.decode()
            p = {k.decode(): v.decode() for k, v in
                 (await redis.hgetall(keys.k(f"printer:{kiosk}"))).items()}
            failed = await redis.hgetall(keys.k(f"pjfail:{kiosk}"))
            seen = p.get("seen_at")
            out.append({
                "kiosk": kiosk, "label": p.get("label", ""), "state": p.get("state", "unknown"),
                "detail": json.loads(p.get("detail") or "{}"),
                "seen_at": iso(int(seen) / 1000, office.timezone) if seen else None,
                "pending": await redis.zcard(keys.k(f"pjq:{kiosk}")),
                "failed": [{"ticket": t.decode(), "number": n.decode()}
                           for t, n in sorted(failed.items())],
            })
        return out


def _state(state: str) -> str:
    if state not in STATES:
        raise MadoguchiError("validation_failed", f"printer state must be one of {STATES}")
    return state
