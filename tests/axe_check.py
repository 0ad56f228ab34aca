"""axe-core in Chromium (WCAG 2.1 AA rules), from a package: the PyPI
package axe-playwright-python ships axe.min.js in its wheel (the dev
extra), so nothing is downloaded when the tests run. `axe_problems()`
returns the serious and critical violations of the page as it is now."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

SERIOUS = ("serious", "critical")
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
# Rules axe marks experimental that WCAG 2.1 AA still asks for: the visible
# label is part of the accessible name (2.5.3 label in name).
EXPERIMENTAL = ["label-content-name-mismatch"]


@cache
def axe_source() -> str:
    import axe_playwright_python  # the dev extra; its wheel holds axe.min.js

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(
        encoding="utf-8")


async def axe_problems(page: Any, impacts: tuple[str, ...] = SERIOUS) -> list[str]:
    """Serious and critical axe-core violations, one string per element:
    "rule (impact): selector: summary". Injected through the DevTools
    protocol, so the pages' Content-Security-Policy need not allow it; no
    stylesheet preload (it would add <style> elements that the policy
    refuses, and it serves only css-orientation-lock)."""
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        await page.evaluate(axe_source())
    results = await page.evaluate(
        """([tags, extra]) => axe.run(document, {
             runOnly: {type: 'tag', values: tags}, resultTypes: ['violations'], preload: false,
             rules: Object.fromEntries(extra.map((id) => [id, {enabled: true}]))})""",
        [TAGS, EXPERIMENTAL])
    out = []
    for violation in results["violations"]:
        if violation["impact"] not in impacts:
            continue
        for node in violation["nodes"]:
            target = " ".join(str(t) for t in node["target"])
            summary = (node.get("failureSummary") or "").replace("\n", " ")[:200]
            out.append(f"{violation['id']} ({violation['impact']}): {target}: {summary}")
    return out


def axe_version() -> str:
    head = axe_source()[:40]
    return head.split("axe v", 1)[1].split()[0] if "axe v" in head else "?"
