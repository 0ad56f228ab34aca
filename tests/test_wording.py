"""One name for one thing in the Japanese texts (issue 10 §4): the office is
庁舎 (or its own name, 〇〇区役所) on every page, never 事業所 or 事務所; the
ticket is 番号札, never 整理券; staff are 職員, never 係員. And the card
offer says what the card saves (申請書の記入を省く)."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("checkin", "displays", "queue_server", "ticket_printer")
TEXTS = [p for top in PACKAGES for p in (ROOT / top).rglob("*")
         if p.suffix in {".json", ".html", ".js"}
         and ("static" in p.parts or "messages" in p.parts)]
UNWANTED = {"事業所": "庁舎", "事務所": "庁舎", "整理券": "番号札", "係員": "職員"}


def test_one_name_for_one_thing() -> None:
    assert len(TEXTS) > 50
    found = []
    for path in TEXTS:
        if path.name.endswith(".json") and not path.stem.endswith(("ja", "ja-easy")):
            continue
        text = path.read_text(encoding="utf-8")
        found += [f"{path.relative_to(ROOT)}: {word} (say {UNWANTED[word]})"
                  for word in UNWANTED if word in text]
    assert found == []


def test_card_offer_says_what_it_saves() -> None:
    kiosk = json.loads((ROOT / "checkin/static/i18n/kiosk.ja.json").read_text(encoding="utf-8"))
    assert kiosk["card.offer_title"] == "マイナンバーカードで申請書の記入を省く（任意）"
