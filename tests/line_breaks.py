"""Where a button's label breaks across lines, as Chromium lays it out: a
Japanese label may break between words (Intl.Segmenter), never inside one
(「最初の画／面に戻る」, 「もう一度呼／ぶ」)."""

from __future__ import annotations

from typing import Any

# For every visible button (and link styled as one): its text, and each
# line break that falls inside a word, as "前／後".
BREAKS_JS = r"""(selector) => {
  const words = new Intl.Segmenter('ja', {granularity: 'word'});
  const out = [];
  for (const el of document.querySelectorAll(selector)) {
    if (!el.getClientRects().length) continue;
    const chars = [];
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (let i = 0; i < node.length; i += 1) {
        const range = document.createRange();
        range.setStart(node, i);
        range.setEnd(node, i + 1);
        const rect = range.getClientRects()[0];
        if (rect) chars.push({c: node.data[i], top: rect.top, left: rect.left});
      }
    }
    const text = chars.map((x) => x.c).join('');
    if (!/[\u3040-\u30ff\u4e00-\u9fff]/.test(text)) continue;
    const ends = new Set();
    for (const s of words.segment(text)) ends.add(s.index);
    const bad = [];
    for (let i = 1; i < chars.length; i += 1) {
      const wrapped = chars[i].top > chars[i - 1].top + 2 && chars[i].left < chars[i - 1].left;
      if (wrapped && !ends.has(i) && chars[i - 1].c.trim() && chars[i].c.trim()) {
        bad.push(text.slice(0, i) + '／' + text.slice(i));
      }
    }
    if (bad.length) out.push(...bad);
  }
  return out;
}"""

BUTTONS = "button, a.button, [role=button]"


async def broken_words(page: Any, selector: str = BUTTONS) -> list[str]:
    """Labels that break inside a word, with the break marked 「／」."""
    return list(await page.evaluate(BREAKS_JS, selector))
