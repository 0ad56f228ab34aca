"""Redis key names. Every key of one office shares the hash tag
``{tenant:office}`` so each atomic operation touches one Cluster slot."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OfficeKeys:
    tenant: str
    office: str

    @property
    def prefix(self) -> str:
        return f"mg:{{{self.tenant}:{self.office}}}:"

    def k(self, suffix: str) -> str:
        return self.prefix + suffix

    @property
    def config(self) -> str:
        return self.k("config")

    @property
    def events(self) -> str:
        return self.k("events")

    @property
    def counters(self) -> str:
        """Set of counter ids."""
        return self.k("counters")

    @property
    def services(self) -> str:
        """Set of service ids."""
        return self.k("services")

    @property
    def parked(self) -> str:
        return self.k("parked")

    @property
    def noshow(self) -> str:
        return self.k("noshow")

    def ticket(self, ticket_id: str) -> str:
        return self.k(f"t:{ticket_id}")

    def queue(self, service: str) -> str:
        return self.k(f"q:{service}")

    def counter_queue(self, counter: str) -> str:
        """Tickets transferred to one specific counter."""
        return self.k(f"cq:{counter}")

    def service(self, service: str) -> str:
        return self.k(f"svc:{service}")

    def counter(self, counter: str) -> str:
        return self.k(f"ctr:{counter}")

    def seq(self, service: str, day: str) -> str:
        return self.k(f"seq:{service}:{day}")

    def tie(self, score_ms: int) -> str:
        """Tickets given this queue score so far: equal due_at breaks by arrival."""
        return self.k(f"tie:{score_ms}")

    def day_tickets(self, day: str) -> str:
        """All tickets issued on one business day (for stats and purging)."""
        return self.k(f"day:{day}")

    def presence_tries(self, kind: str, digest: str) -> str:
        """Wrong lobby codes of one booking or ticket (`kind` "s") or one
        client address ("a"), by a digest (never the capability or the
        address itself): hash of fails, pauses, until (presence_check.lua)."""
        return self.k(f"pt:{kind}:{digest}")


def token_key(tenant: str, token_hash: str) -> str:
    return f"mg:{{{tenant}}}:token:{token_hash}"


def token_index(tenant: str) -> str:
    return f"mg:{{{tenant}}}:tokens"


def offices_key(tenant: str) -> str:
    return f"mg:{{{tenant}}}:offices"
