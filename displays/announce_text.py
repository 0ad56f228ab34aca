"""The spoken text of a call, per language (DESIGN §11).

Speech text is authored apart from display text: the lobby shows "A-023 →
3番窓口", but espeak-ng's Japanese voice reads only kana (kanji come out as
"Chinese letter" or nothing), so numbers, ticket letters and counter names
are spelled out here. The sentences live in `messages/announce.<lang>.json`.

Number words come from num2words (its Japanese kana reading, Korean and
Vietnamese were checked for every number 1–999 in tests/test_announce_text.py);
Chinese, which num2words lacks, has its own small table.
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import cache
from pathlib import Path
from typing import Any

from num2words import num2words

from queue_server.office_config import Counter

LANGS = ("ja", "en", "ko", "zh-Hans", "vi")
MESSAGES = Path(__file__).resolve().parent / "messages"
# A display number as shown on tickets and in events ("A-023"); the hyphen
# is optional so "A23" works too.
NUMBER_RE = re.compile(r"^([A-Z])-?([0-9]{1,3})$")
MAX_NUMBER = 999

# Japanese text that espeak-ng reads: kana, the long-vowel mark, spaces and
# the pauses 、。.
_KANA = re.compile(r"[\u3041-\u309f\u30a0-\u30ff]")


@cache
def catalog(lang: str) -> dict[str, Any]:
    """The announcement catalog of a language (KeyError for an unknown one)."""
    if lang not in LANGS:
        raise KeyError(lang)
    return json.loads((MESSAGES / f"announce.{lang}.json").read_text(encoding="utf-8"))


def parse_number(text: str) -> tuple[str, int]:
    """("A", 23) for "A-023"; ValueError for anything that is not a ticket number."""
    match = NUMBER_RE.match(text.strip().upper())
    if match is None:
        raise ValueError("a ticket number looks like A-023")
    value = int(match.group(2))
    if not 1 <= value <= MAX_NUMBER:
        raise ValueError("ticket numbers run from 001 to 999")
    return match.group(1), value


def display_number(letter: str, value: int) -> str:
    return f"{letter}-{value:03d}"


# -- numbers -----------------------------------------------------------------

_ZH_DIGITS = "零一二三四五六七八九"


def chinese_number(value: int) -> str:
    """Mandarin cardinal for 1–999 (一百零一, 一百一十, 二十三)."""
    if not 1 <= value <= MAX_NUMBER:
        raise ValueError(value)
    hundreds, tens, units = value // 100, value // 10 % 10, value % 10
    out = ""
    if hundreds:
        out += _ZH_DIGITS[hundreds] + "百"
    if tens:
        # 十 alone at the start (十二), 一十 after hundreds (一百一十二).
        out += ("" if tens == 1 and not hundreds else _ZH_DIGITS[tens]) + "十"
    elif hundreds and units:
        out += "零"
    if units:
        out += _ZH_DIGITS[units]
    return out


def number_words(value: int, lang: str) -> str:
    """How a number is said in `lang` (ja: kana, にじゅうさん; en: digits,
    which every English voice reads well)."""
    if lang == "ja":
        return str(num2words(value, lang="ja", reading=True))
    if lang in ("ko", "vi"):
        return str(num2words(value, lang=lang))
    if lang == "zh-Hans" and value <= MAX_NUMBER:
        return chinese_number(value)
    return str(value)


def letter_words(letter: str, lang: str) -> str:
    """A ticket letter as said in `lang` (ja: エー; languages without a table
    keep the Latin letter, which their voices name)."""
    return str(catalog(lang).get("letters", {}).get(letter.upper(), letter.upper()))


def _spell_digits(text: str, lang: str) -> str:
    """Digits inside a configured name, said as numbers ("3번 창구" → 삼번 창구)."""
    if not catalog(lang).get("digits_as_words", True):
        return text
    return re.sub(r"[0-9]+", lambda m: _number_or_digits(int(m.group()), lang), text)


def _number_or_digits(value: int, lang: str) -> str:
    return number_words(value, lang) if 1 <= value <= 9999 else " ".join(str(value))


# -- Japanese: written names to kana -----------------------------------------


def _suffix_reading(number_reading: str, rules: dict[str, str]) -> str:
    """number + counter word with its sound change (さん + 階 → さんがい)."""
    for ending, joined in rules.items():
        if ending != "*" and number_reading.endswith(ending):
            return number_reading[: -len(ending)] + joined
    return number_reading + rules["*"]


def read_japanese(text: str) -> str:
    """Kana for a written Japanese name: digits as numbers (with the sound
    changes of counter words such as 階), Latin letters by their katakana
    names, kanji words from the catalog. Kanji it cannot read are left out:
    handed to espeak-ng they would be read as "Chinese letter"."""
    cat = catalog("ja")
    words: dict[str, str] = cat["words"]
    suffixes: dict[str, dict[str, str]] = cat["number_suffixes"]
    longest = max(len(w) for w in words)
    text = unicodedata.normalize("NFKC", text)
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isdigit() and ch.isascii():
            j = i
            while j < len(text) and text[j].isdigit() and text[j].isascii():
                j += 1
            reading = _number_or_digits(int(text[i:j]), "ja")
            suffix = next((s for s in sorted(suffixes, key=len, reverse=True)
                           if text.startswith(s, j)), None)
            if suffix is not None:
                reading = _suffix_reading(reading, suffixes[suffix])
                j += len(suffix)
            out.append(reading)
            i = j
        elif ch.isascii() and ch.isalpha():
            out.append(letter_words(ch, "ja"))
            i += 1
        elif ch.isspace() or ch in "、。,.・/-()（）「」":
            out.append(" ")
            i += 1
        elif _KANA.match(ch):
            out.append(ch)
            i += 1
        else:
            word = next((text[i:i + n] for n in range(min(longest, len(text) - i), 0, -1)
                         if text[i:i + n] in words), None)
            if word is not None:
                out.append(words[word])
                i += len(word)
            else:
                i += 1  # a kanji (or symbol) we cannot read: left out
    return re.sub(r"\s+", " ", "".join(out)).strip()


# -- counters ----------------------------------------------------------------


def _ko_particle_ro(word: str, forms: dict[str, str]) -> str:
    """으로 after a final consonant, 로 after a vowel or ㄹ (창구로, 민원실로, 상담석으로)."""
    last = word.rstrip()[-1:] if word.strip() else ""
    if last and "가" <= last <= "힣":
        final = (ord(last) - 0xAC00) % 28
        if final == 0:
            return forms["vowel"]
        return forms["rieul"] if final == 8 else forms["consonant"]
    if last.isdigit():  # a digit left as is: 영, 삼, 육 end in a consonant other than ㄹ
        return forms["consonant"] if last in "036" else forms["vowel"]
    return forms["vowel"]


_COUNTER_NUMBER = re.compile(r"([0-9]+)\s*(?:番|号|$)")


def counter_speech(counter: Counter, lang: str) -> str:
    """How the counter is named in the announcement. In order: the configured
    speech text for the language, the configured name for the language, the
    number in its Japanese name ("12番窓口" → counter 12), a generic word."""
    cat = catalog(lang)
    speech = counter.speech.as_dict().get(lang) if counter.speech else None
    name = counter.names.as_dict().get(lang)
    if lang == "ja":
        text = read_japanese(speech or counter.names.ja)
        return text or str(cat["counter_fallback"])
    if speech or name:
        return _spell_digits(str(speech or name), lang).strip()
    # The counter's number: one followed by 番/号, or standing at the end
    # ("窓口3"); not a floor ("2階") or any other number.
    numbers = _COUNTER_NUMBER.findall(unicodedata.normalize("NFKC", counter.names.ja))
    if len(numbers) == 1:
        n = _spell_digits(str(int(numbers[0])), lang)
        return str(cat["counter_numbered"]).format(n=n)
    return str(cat["counter_fallback"])


# -- the announcement -----------------------------------------------------------


def announcement(letter: str, value: int, counter: Counter, lang: str,
                 recall: bool = False) -> str:
    """The whole spoken sentence for one call in one language."""
    cat = catalog(lang)
    where = counter_speech(counter, lang)
    params = {
        "letter": letter_words(letter, lang),
        "number": number_words(value, lang),
        "digits": str(value),
        "counter": where,
        "ro": _ko_particle_ro(where, cat["particle_ro"]) if "particle_ro" in cat else "",
    }
    return str(cat["recall" if recall else "call"]).format(**params)


def is_kana_text(text: str) -> bool:
    """Whether espeak-ng's Japanese voice can read all of `text`: kana,
    ー, spaces and 、。 only (what tests demand of every Japanese text)."""
    return all(_KANA.match(ch) or ch in " 、。" for ch in text)
