"""What every browser page of madoguchi shares: security headers, static
files from a package folder, and the office-id check.

Pages live in other packages (checkin, displays) and plug into the app
through the ``madoguchi.web`` entry points; they use this module so every
page gets the same headers and the same path-traversal-proof file serving.
"""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp import web

# Only these kinds of file are served from a static folder, with these types.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
}
OFFICE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")

# The pages load nothing from anywhere but this server, never send a
# capability URL anywhere in a Referer, and may not be framed.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "media-src 'self'; connect-src 'self'; manifest-src 'self'; worker-src 'self'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


def page(path: Path, status: int = 200, private: bool = False) -> web.FileResponse:
    """An HTML page. `private`: its URL is a capability (a ticket or a
    booking link), so no shared cache may keep it and no robot index it."""
    response = web.FileResponse(path, status=status)
    response.content_type = "text/html"
    response.charset = "utf-8"
    response.headers.update(SECURITY_HEADERS)
    response.headers["Cache-Control"] = "no-store" if private else "no-cache"
    if private:
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def add_static(app: web.Application, prefix: str, root: Path, name: str) -> None:
    """Serve the files under `root` at `prefix/...` (only CONTENT_TYPES kinds,
    never outside `root`)."""
    root = root.resolve()

    async def static_file(request: web.Request) -> web.StreamResponse:
        try:
            target = (root / request.match_info["path"]).resolve()
        except (ValueError, OSError):  # a NUL byte, a name too long, a symlink loop
            raise web.HTTPNotFound() from None
        kind = CONTENT_TYPES.get(target.suffix)
        try:
            found = kind is not None and target.is_relative_to(root) and target.is_file()
        except (ValueError, OSError):
            found = False
        if not found:
            raise web.HTTPNotFound()
        response = web.FileResponse(target)
        response.headers["Content-Type"] = kind
        response.headers.update(SECURITY_HEADERS)
        # Revalidate every time (ETag / Last-Modified make that cheap): a new
        # catalog or module reaches phones and displays on their next load.
        response.headers["Cache-Control"] = "no-cache"
        return response

    app.router.add_get(prefix.rstrip("/") + "/{path:.+}", static_file, name=name)


async def office_known(request: web.Request, office: str) -> bool:
    """Whether `office` is a configured office (pages answer 404 otherwise,
    still as a page that explains it in the citizen's language)."""
    from .context import CONTEXT
    from .errors import MadoguchiError

    if not OFFICE_RE.match(office):
        return False
    context = request.app.get(CONTEXT)
    if context is None:
        return True
    try:
        await context.engine.office(office)
    except MadoguchiError:
        return False
    return True
