"""Errors with a stable code, an HTTP status and a plain message.

The code is the contract (UIs map it to their message catalogs); the message
is for developers and logs."""

from __future__ import annotations

from typing import Any

# code -> (HTTP status, message)
ERRORS: dict[str, tuple[int, str]] = {
    "bad_request": (400, "The request is malformed."),
    "invalid_json": (400, "The request body is not valid JSON."),
    "validation_failed": (422, "The request did not pass validation."),
    "unauthorized": (401, "A valid bearer token is required."),
    "forbidden": (403, "This token may not do that."),
    "not_found": (404, "No such resource."),
    "method_not_allowed": (405, "Method not allowed on this resource."),
    "payload_too_large": (413, "The request body is too large."),
    "unsupported_media_type": (415, "Send the request body as application/json."),
    "unknown_office": (404, "No such office."),
    "unknown_service": (404, "No such service in this office."),
    "unknown_counter": (404, "No such counter in this office."),
    "unknown_target_counter": (404, "The counter to transfer to does not exist."),
    "unknown_ticket": (404, "No such ticket."),
    "walk_in_not_allowed": (409, "This service takes bookings only, not walk-in tickets."),
    "counter_not_open": (409, "The counter is not open; open it before calling."),
    "counter_busy": (409, "The counter still has a ticket; finish, park or transfer it first."),
    "no_current_ticket": (409, "The counter has no ticket being called or served."),
    "ticket_mismatch": (409, "The counter's ticket is not the one given (the screen is stale)."),
    "not_called": (409, "The ticket is not in the called state."),
    "already_serving": (409, "The ticket is already being served."),
    "recalls_required": (409, "A no-show needs the configured number of recalls first."),
    "no_target": (422, "Give a service or a counter to transfer to."),
    "not_parked": (409, "The ticket is not parked."),
    "not_no_show": (409, "Only a no-show ticket can rejoin."),
    "rejoin_window_passed": (409, "The time to rejoin after a no-show has passed."),
    "in_service": (409, "The ticket is being served and cannot be cancelled."),
    "already_finished": (409, "The ticket is already finished or cancelled."),
    "duplicate_id": (409, "A ticket with this id exists."),
    "internal": (500, "Something went wrong on the server; it has been logged."),
    "unavailable": (503, "The data store is not reachable; try again."),
}


class MadoguchiError(Exception):
    def __init__(self, code: str, message: str | None = None, **details: Any) -> None:
        status, default = ERRORS.get(code, (400, code))
        super().__init__(message or default)
        self.code = code
        self.status = status
        self.message = message or default
        self.details = details

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            error["details"] = self.details
        return {"error": error}
