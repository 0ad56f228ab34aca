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
    "unsupported_language": (422, "This language is not supported; details.supported lists "
                                  "those that are."),
    "unauthorized": (401, "A valid bearer token is required."),
    "forbidden": (403, "This token may not do that."),
    "not_found": (404, "No such resource."),
    "method_not_allowed": (405, "Method not allowed on this resource."),
    "payload_too_large": (413, "The request body is too large."),
    "headers_too_large": (431, "A request header is too large."),
    "request_timeout": (408, "The request was not received in time."),
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
    "invalid_phone": (422, "Give a Japanese phone number, e.g. 090-1234-5678."),
    "invalid_date": (422, "Give a date as YYYY-MM-DD (at most 31 days in one request)."),
    "not_bookable": (409, "This service cannot be booked; please come to the office."),
    "slot_unavailable": (409, "This time cannot be booked (past, too soon, or not a slot)."),
    "beyond_horizon": (409, "This date is too far ahead to book yet."),
    "office_closed": (409, "The office is closed at that time (outside its opening hours or "
                          "on a closed day)."),
    "slot_full": (409, "This time is fully booked; please choose another."),
    "too_many_bookings": (429, "This phone number has as many bookings as allowed."),
    "rate_limited": (429, "Too many requests; please try again later."),
    "sms_limit_phone": (429, "This phone number has had as many SMS today as allowed."),
    "sms_limit_office": (429, "This office has sent as many SMS today as allowed."),
    "not_mobile": (422, "SMS can go only to a Japanese mobile number (070, 080, 090)."),
    "invalid_sms": (422, "Unknown SMS kind or language, or bad parameters."),
    "unknown_sms": (404, "No such SMS message."),
    "invalid_signature": (403, "The request is not signed by Twilio."),
    "code_taken": (409, "Please try again."),
    "unknown_booking": (404, "No such booking."),
    "booking_not_active": (409, "The booking was already used, cancelled or missed."),
    "same_slot": (409, "The booking is already at this time."),
    "no_booking": (404, "No booking to check in was found for this number today."),
    "code_required": (409, "Several bookings match: give the 6-digit booking code too."),
    "too_early": (409, "Check-in for this booking has not opened yet."),
    "too_late": (409, "The check-in time for this booking has passed."),
    "not_remote": (409, "This ticket is already in the line at the office."),
    "printer_extra_missing": (503, "The ticket preview needs the printer extra on the server: "
                                  "pip install 'madoguchi[printer]'."),
    "presence_required": (403, "Enter the check-in code shown on the lobby screen."),
    "presence_locked": (429, "Too many wrong check-in codes; wait a few minutes "
                        "(Retry-After) or ask at the reception."),
    # Accounts, login and sessions (queue_server.users, .sessions, .login_pages).
    "login_failed": (401, "The login name or the password is wrong."),
    "login_locked": (429, "Too many failed logins: this login name is locked for a while."),
    "login_rate_limited": (429, "Too many failed logins from this computer; try again later."),
    "account_disabled": (403, "This account is disabled; ask your administrator."),
    "session_expired": (401, "Please log in (the session has ended or was never started)."),
    "csrf_failed": (403, "The request lacks the page's security token (CSRF); reload the page."),
    "wrong_password": (403, "The current password is wrong."),
    "weak_password": (422, "The new password is too weak."),
    "password_mismatch": (422, "The two new passwords differ."),
    "invalid_login_name": (422, "A login name is 2-40 characters: a-z, 0-9, '.', '_' or '-'."),
    "user_exists": (409, "An account with this login name exists."),
    "unknown_user": (404, "No such account."),
    # Administration (queue_server.api_admin).
    "config_conflict": (409, "The configuration was changed by someone else since it was "
                        "loaded; load it again."),
    "config_busy": (409, "Another change to this office is being saved; try again."),
    "office_exists": (409, "An office with this id exists."),
    "unknown_token": (404, "No such device token."),
    "invalid_yaml": (400, "The request body is not valid YAML (anchors and aliases are "
                     "not accepted)."),
    "internal": (500, "Something went wrong on the server; it has been logged."),
    "unavailable": (503, "The data store is not reachable; try again."),
    # A change was sent to the data store but no answer came: it may or may
    # not have been made. Never "try again" blindly (queue_server.idempotency).
    "outcome_unknown": (503, "The data store did not answer in time, so the change may or may "
                        "not have been made. Repeat the request with the same Idempotency-Key "
                        "(it is then made at most once), or read the current state before "
                        "acting again."),
    "invalid_idempotency_key": (400, "The Idempotency-Key header must be 16-128 characters: "
                                "letters, digits and ._:~+/=-"),
    "idempotency_key_reused": (422, "This Idempotency-Key was used for a different request; "
                               "use a new key for each action."),
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
