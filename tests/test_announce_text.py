"""Announcement texts: number readings 1–999, letters A–Z, counter names and
whole sentences per language (displays/announce_text.py and its catalogs).

The expected readings are written out here or built by rules independent of
the code (num2words gives the Japanese, Korean and Vietnamese words; these
tables are what prove it right)."""

from __future__ import annotations

import re
import string
from typing import Any

import pytest

from displays.announce_text import (
    LANGS,
    announcement,
    catalog,
    chinese_number,
    counter_speech,
    display_number,
    is_kana_text,
    letter_words,
    number_words,
    parse_number,
    read_japanese,
)
from queue_server.office_config import Counter

# -- Japanese numbers ---------------------------------------------------------------

JA_NUMBERS = {
    1: "いち", 2: "に", 3: "さん", 4: "よん", 5: "ご", 6: "ろく", 7: "なな", 8: "はち",
    9: "きゅう", 10: "じゅう", 11: "じゅういち", 14: "じゅうよん", 17: "じゅうなな",
    19: "じゅうきゅう", 20: "にじゅう", 23: "にじゅうさん", 40: "よんじゅう", 70: "ななじゅう",
    90: "きゅうじゅう", 99: "きゅうじゅうきゅう", 100: "ひゃく", 101: "ひゃくいち",
    110: "ひゃくじゅう", 111: "ひゃくじゅういち", 200: "にひゃく", 300: "さんびゃく",
    340: "さんびゃくよんじゅう", 400: "よんひゃく", 500: "ごひゃく", 600: "ろっぴゃく",
    666: "ろっぴゃくろくじゅうろく", 700: "ななひゃく", 800: "はっぴゃく",
    888: "はっぴゃくはちじゅうはち", 900: "きゅうひゃく", 904: "きゅうひゃくよん",
    999: "きゅうひゃくきゅうじゅうきゅう",
}
_JA_UNITS = ["", "いち", "に", "さん", "よん", "ご", "ろく", "なな", "はち", "きゅう"]
# The sound changes of 百: さんびゃく, ろっぴゃく, はっぴゃく; plain 百 for 100.
_JA_HUNDREDS = {1: "ひゃく", 3: "さんびゃく", 6: "ろっぴゃく", 8: "はっぴゃく"}


def ja_rule(n: int) -> str:
    hundreds, tens, units = n // 100, n // 10 % 10, n % 10
    out = _JA_HUNDREDS.get(hundreds, _JA_UNITS[hundreds] + "ひゃく") if hundreds else ""
    if tens:
        out += ("" if tens == 1 else _JA_UNITS[tens]) + "じゅう"
    return out + _JA_UNITS[units]


@pytest.mark.parametrize(("n", "reading"), sorted(JA_NUMBERS.items()))
def test_japanese_number_table(n: int, reading: str) -> None:
    assert number_words(n, "ja") == reading


def test_japanese_numbers_1_to_999_follow_the_rules() -> None:
    for n in range(1, 1000):
        reading = number_words(n, "ja")
        assert reading == ja_rule(n), n
        assert re.fullmatch(r"[ぁ-ゖー]+", reading), (n, reading)
        # No 千, no いちひゃく / いちじゅう, no ゼロ for inner zeros.
        assert "せん" not in reading and "ぜろ" not in reading and "ゼロ" not in reading
        assert not reading.startswith(("いちひゃく", "いちじゅう"))
        for wrong in ("さんひゃく", "ろくひゃく", "はちひゃく"):
            assert wrong not in reading, (n, reading)


# -- other languages' numbers ---------------------------------------------------------

KO_NUMBERS = {
    1: "일", 5: "오", 10: "십", 11: "십일", 16: "십육", 20: "이십", 23: "이십삼", 100: "백",
    101: "백일", 110: "백십", 111: "백십일", 300: "삼백", 999: "구백구십구",
}
_KO_DIGITS = "_일이삼사오육칠팔구"


def ko_rule(n: int) -> str:
    hundreds, tens, units = n // 100, n // 10 % 10, n % 10
    out = ""
    if hundreds:
        out += ("" if hundreds == 1 else _KO_DIGITS[hundreds]) + "백"
    if tens:
        out += ("" if tens == 1 else _KO_DIGITS[tens]) + "십"
    return out + (_KO_DIGITS[units] if units else "")


VI_NUMBERS = {
    1: "một", 4: "bốn", 5: "năm", 10: "mười", 11: "mười một", 15: "mười lăm",
    20: "hai mươi", 21: "hai mươi mốt", 23: "hai mươi ba", 25: "hai mươi lăm",
    100: "một trăm", 101: "một trăm lẻ một", 105: "một trăm lẻ năm", 110: "một trăm mười",
    115: "một trăm mười lăm", 999: "chín trăm chín mươi chín",
}
ZH_NUMBERS = {
    1: "一", 2: "二", 10: "十", 11: "十一", 20: "二十", 23: "二十三", 100: "一百",
    101: "一百零一", 110: "一百一十", 111: "一百一十一", 205: "二百零五", 340: "三百四十",
    999: "九百九十九",
}


@pytest.mark.parametrize(("lang", "table"), [("ko", KO_NUMBERS), ("vi", VI_NUMBERS),
                                             ("zh-Hans", ZH_NUMBERS)])
def test_number_tables(lang: str, table: dict[int, str]) -> None:
    assert {n: number_words(n, lang) for n in table} == table


def test_korean_numbers_1_to_999_follow_the_rules() -> None:
    assert all(number_words(n, "ko") == ko_rule(n) for n in range(1, 1000))


def test_vietnamese_numbers_1_to_999_follow_the_rules() -> None:
    for n in range(1, 1000):
        words = number_words(n, "vi").split()
        tens, units = n // 10 % 10, n % 10
        # 1 after a ten of 2+ is mốt, 5 after any ten is lăm, 10 is mười.
        if tens >= 2 and units == 1:
            assert words[-1] == "mốt", n
        if tens >= 1 and units == 5:
            assert words[-1] == "lăm", n
        if n >= 100 and tens == 0 and units:
            assert words[-2] == "lẻ", n
        assert "không" not in words, n


def test_chinese_numbers_1_to_999_follow_the_rules() -> None:
    for n in range(1, 1000):
        text = chinese_number(n)
        assert set(text) <= set("一二三四五六七八九十百零"), n
        assert ("零" in text) == (n >= 100 and n // 10 % 10 == 0 and n % 10 != 0), n
        assert not text.startswith("一十"), n
    with pytest.raises(ValueError):
        chinese_number(0)


def test_english_keeps_digits() -> None:
    assert number_words(23, "en") == "23"


# -- ticket numbers -----------------------------------------------------------------------


@pytest.mark.parametrize(("text", "parsed"), [
    ("A-023", ("A", 23)), ("A23", ("A", 23)), ("B-001", ("B", 1)), ("z-999", ("Z", 999)),
    (" J-100 ", ("J", 100)),
])
def test_parse_number(text: str, parsed: tuple[str, int]) -> None:
    assert parse_number(text) == parsed
    assert display_number(*parsed) == f"{parsed[0]}-{parsed[1]:03d}"


@pytest.mark.parametrize("text", ["", "A", "A-", "A-000", "A-1000", "AA-1", "1-023", "A_023",
                                  "Ａ-023", "A-02x", "A--023", "A-023;"])
def test_parse_number_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_number(text)


# -- letters ---------------------------------------------------------------------------------

JA_LETTERS = dict(zip(string.ascii_uppercase, [
    "エー", "ビー", "シー", "ディー", "イー", "エフ", "ジー", "エイチ", "アイ", "ジェー", "ケー",
    "エル", "エム", "エヌ", "オー", "ピー", "キュー", "アール", "エス", "ティー", "ユー", "ブイ",
    "ダブリュー", "エックス", "ワイ", "ゼット"], strict=True))
KO_LETTERS = dict(zip(string.ascii_uppercase, [
    "에이", "비", "씨", "디", "이", "에프", "지", "에이치", "아이", "제이", "케이", "엘", "엠",
    "엔", "오", "피", "큐", "알", "에스", "티", "유", "브이", "더블유", "엑스", "와이", "제트"],
    strict=True))


@pytest.mark.parametrize(("lang", "table"), [("ja", JA_LETTERS), ("ko", KO_LETTERS)])
def test_letters(lang: str, table: dict[str, str]) -> None:
    assert {c: letter_words(c, lang) for c in string.ascii_uppercase} == table
    assert letter_words("a", lang) == table["A"]


@pytest.mark.parametrize("lang", ["en", "zh-Hans", "vi"])
def test_letters_kept_where_voices_name_them(lang: str) -> None:
    assert [letter_words(c, lang) for c in string.ascii_uppercase] == list(string.ascii_uppercase)


# -- counters --------------------------------------------------------------------------------


def counter(ja: str, names: dict[str, str] | None = None,
            speech: dict[str, str] | None = None) -> Counter:
    data: dict[str, Any] = {"id": "c", "names": {"ja": ja, **(names or {})}, "services": ["s"]}
    if speech:
        data["speech"] = speech
    return Counter.model_validate(data)


@pytest.mark.parametrize(("ja", "speech", "reading"), [
    ("3番窓口", None, "さんばんまどぐち"),
    ("12番窓口", None, "じゅうにばんまどぐち"),
    ("１番窓口", None, "いちばんまどぐち"),  # full-width digits
    ("100番窓口", None, "ひゃくばんまどぐち"),
    ("総合案内", {"ja": "そうごうあんない"}, "そうごうあんない"),
    ("総合案内", None, "そうごうあんない"),
    ("B窓口", None, "ビーまどぐち"),
    ("2階 5番窓口", None, "にかい ごばんまどぐち"),
    ("1階", None, "いっかい"), ("3階", None, "さんがい"), ("6階", None, "ろっかい"),
    ("8階", None, "はっかい"), ("10階", None, "じゅっかい"), ("4階", None, "よんかい"),
    ("13階", None, "じゅうさんがい"),
    ("戸籍届出コーナー", None, "こせきとどけでコーナー"),
    # Kanji without a reading are left out, never handed to the voice.
    ("鬼窓口", None, "まどぐち"),
    ("鬼瓦", None, "まどぐち"),
    # The configured speech is read through the same rules (no kanji get through).
    ("特別窓口", {"ja": "とくべつ窓口"}, "とくべつまどぐち"),
])
def test_japanese_counter_names(ja: str, speech: dict[str, str] | None, reading: str) -> None:
    text = counter_speech(counter(ja, speech=speech), "ja")
    assert text == reading
    assert is_kana_text(text)


@pytest.mark.parametrize(("ja", "names", "speech", "lang", "said"), [
    ("3番窓口", None, None, "en", "counter 3"),
    ("12番窓口", {"en": "Counter 12"}, None, "en", "Counter 12"),
    ("12番窓口", None, None, "ko", "십이번 창구"),
    ("12番窓口", {"ko": "12번 창구"}, None, "ko", "십이번 창구"),
    ("12番窓口", None, None, "zh-Hans", "十二号窗口"),
    ("12番窓口", {"zh-Hans": "12号窗口"}, None, "zh-Hans", "十二号窗口"),
    ("12番窓口", None, None, "vi", "quầy số mười hai"),
    ("2階 5番窓口", None, None, "en", "counter 5"),  # the counter's number, not the floor
    ("3階B窓口", None, None, "en", "the counter"),
    ("総合案内", None, None, "en", "the counter"),
    ("総合案内", {"en": "Information"}, {"ja": "そうごうあんない", "en": "the information desk"},
     "en", "the information desk"),
    ("総合案内", None, {"ja": "そうごうあんない"}, "ko", "창구"),
])
def test_counter_names_in_other_languages(ja: str, names: dict[str, str] | None,
                                          speech: dict[str, str] | None, lang: str,
                                          said: str) -> None:
    assert counter_speech(counter(ja, names, speech), lang) == said


@pytest.mark.parametrize(("name", "particle"), [
    ("3번 창구", "로"), ("민원실", "로"), ("상담석", "으로"), ("안내 데스크", "로"), ("12", "로"),
    ("3", "으로"),
])
def test_korean_particle_follows_the_last_syllable(name: str, particle: str) -> None:
    text = announcement("A", 1, counter("1番窓口", {"ko": name}), "ko")
    assert f"{counter_speech(counter('x', {'ko': name}), 'ko')}{particle} 와 주십시오" in text


def test_read_japanese_drops_what_it_cannot_read() -> None:
    assert read_japanese("ＡＢＣ") == "エービーシー"
    assert read_japanese("窓口→3") == "まどぐちさん"
    assert read_japanese("😀") == ""


# -- whole sentences -----------------------------------------------------------------------------

SENTENCES = {
    "ja": "うけつけばんごう エーの にじゅうさんばんの かた、さんばんまどぐちまで おこしください。",
    "en": "Ticket A23, please go to counter 3.",
    "ko": "에이 이십삼번 고객님, 삼번 창구로 와 주십시오.",
    "zh-Hans": "请A二十三号到三号窗口办理。",
    "vi": "Mời khách hàng số A hai mươi ba đến quầy số ba.",
}
RECALLS = {
    "ja": "さいど およびします。うけつけばんごう エーの にじゅうさんばんの かた、"
          "さんばんまどぐちまで おこしください。",
    "en": "Calling again. Ticket A23, please go to counter 3.",
    "ko": "다시 한번 안내해 드립니다. 에이 이십삼번 고객님, 삼번 창구로 와 주십시오.",
    "zh-Hans": "再次呼叫，请A二十三号到三号窗口办理。",
    "vi": "Xin nhắc lại. Mời khách hàng số A hai mươi ba đến quầy số ba.",
}


@pytest.mark.parametrize("lang", LANGS)
def test_sentences(lang: str) -> None:
    letter, value = parse_number("A-023")
    assert announcement(letter, value, counter("3番窓口"), lang) == SENTENCES[lang]
    assert announcement(letter, value, counter("3番窓口"), lang, recall=True) == RECALLS[lang]


def test_japanese_is_kana_for_every_letter_and_number() -> None:
    counters = [counter(n) for n in ("3番窓口", "12番窓口", "総合案内", "鬼窓口", "2階 5番窓口")]
    for letter in string.ascii_uppercase:
        for value in (1, 10, 23, 100, 101, 340, 600, 800, 999):
            for c in counters:
                for recall in (False, True):
                    text = announcement(letter, value, c, "ja", recall)
                    assert is_kana_text(text), text
                    # Leading zeros of "A-023" are never read.
                    assert "ぜろ" not in text and "れい" not in text


def test_catalogs_are_complete() -> None:
    allowed = {"letter", "number", "digits", "counter", "ro"}
    for lang in LANGS:
        cat = catalog(lang)
        for key in ("call", "recall", "counter_numbered", "counter_fallback"):
            assert isinstance(cat[key], str) and cat[key], (lang, key)
        for key in ("call", "recall"):
            fields = set(re.findall(r"\{(\w+)\}", cat[key]))
            assert fields <= allowed and "counter" in fields, (lang, key, fields)
            assert fields & {"number", "digits"}, (lang, key)
        assert "{n}" in cat["counter_numbered"]
    for key in ("call", "recall", "counter_fallback"):
        assert is_kana_text(re.sub(r"\{\w+\}", "", catalog("ja")[key])), key
    with pytest.raises(KeyError):
        catalog("fr")
