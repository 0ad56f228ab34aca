"""Server-side speech (displays/tts.py) through the real pyttsx3 and
espeak-ng: every language's voice makes non-silent audio, silent output is
refused, the cache is reused across processes, synthesis is serialised.

Without espeak-ng these tests skip, which CI (CI=true) turns into failures
(tests/conftest.py)."""

from __future__ import annotations

import asyncio
import ctypes.util
import itertools
import math
import os
import re
import sys
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from displays.announce_text import LANGS, announcement
from displays.tts import (
    MIN_RMS,
    Synthesizer,
    cache_key,
    check_wav,
    chime_wav,
    choose_voices,
    wav_rms,
)
from queue_server.office_config import Counter

COUNTER = Counter.model_validate({"id": "3", "names": {"ja": "3番窓口"}, "services": ["s"]})
KEY_FILE = re.compile(r"^[0-9a-f]{64}\.wav$")


@pytest.fixture
def espeak_ng() -> None:
    # A skip inside the test run (not at collection), so that CI's
    # skip-to-failure hook in conftest.py sees it.
    if ctypes.util.find_library("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")


@pytest.fixture
async def synth(espeak_ng: None, tmp_path: Path) -> AsyncIterator[Synthesizer]:
    s = Synthesizer(tmp_path / "audio")
    yield s
    await s.close()


def wav_info(path: Path) -> tuple[int, int, int, float]:
    with wave.open(str(path), "rb") as w:
        rate = w.getframerate()
        return w.getnchannels(), w.getsampwidth(), rate, w.getnframes() / rate


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if not KEY_FILE.match(p.name))


async def test_a_voice_for_every_language(synth: Synthesizer) -> None:
    voices = await synth.voices()
    # espeak-ng ships all five; the Mandarin one that reads hanzi correctly.
    assert set(voices) == set(LANGS), voices
    assert voices["zh-Hans"].endswith("cmn-latn-pinyin")
    installed = {v["id"] for v in await synth.installed_voices()}
    assert set(voices.values()) <= installed


@pytest.mark.parametrize("lang", LANGS)
async def test_every_language_makes_non_silent_audio(synth: Synthesizer, lang: str) -> None:
    text = announcement("A", 23, COUNTER, lang)
    path = await synth.wav(text, lang)
    assert path is not None, f"no audio for {lang}: {text}"
    channels, width, rate, seconds = wav_info(path)
    assert (channels, width, rate) == (1, 2, 22_050)
    assert seconds > 1.0, seconds  # a whole sentence, not a blip
    rms = check_wav(path)
    assert rms is not None and rms > MIN_RMS
    assert path.parent == synth.cache_dir and KEY_FILE.match(path.name)
    assert leftovers(synth.cache_dir) == []


async def test_silent_output_is_refused(synth: Synthesizer) -> None:
    # Punctuation alone: espeak writes a valid WAV of pure silence.
    assert await synth.wav("、。", "ja") is None
    assert synth.synthesized == 0
    assert list(synth.cache_dir.iterdir()) == []  # nothing cached, no temp file left


async def test_kanji_never_reach_the_japanese_voice(synth: Synthesizer) -> None:
    # espeak-ng would say "Chinese letter": refused before synthesis.
    assert await synth.wav("うけつけ 受付", "ja") is None
    assert await synth.wav("   ", "ja") is None
    assert await synth.wav("hello", "fr") is None
    assert synth.synthesized == 0


async def test_cache_returns_the_same_file_without_resynthesis(
        synth: Synthesizer, tmp_path: Path) -> None:
    text = announcement("B", 7, COUNTER, "ja")
    first = await synth.wav(text, "ja")
    assert first is not None
    stat = first.stat()
    second = await synth.wav(text, "ja")
    assert second == first and synth.synthesized == 1
    assert second.stat().st_mtime_ns == stat.st_mtime_ns and second.stat().st_ino == stat.st_ino
    assert first.stem == await synth.key(text, "ja")
    # Another process sharing the directory finds it too.
    other = Synthesizer(synth.cache_dir)
    try:
        assert await other.wav(text, "ja") == first
        assert other.synthesized == 0
    finally:
        await other.close()


@pytest.mark.usefixtures("espeak_ng")
async def test_key_covers_text_voice_and_rate(tmp_path: Path) -> None:
    keys = {cache_key("a", "ja", 130), cache_key("b", "ja", 130), cache_key("a", "ko", 130),
            cache_key("a", "ja", 150)}
    assert len(keys) == 4 and all(re.fullmatch(r"[0-9a-f]{64}", k) for k in keys)
    slow = Synthesizer(tmp_path / "slow", rate=100)
    fast = Synthesizer(tmp_path / "fast", rate=200)
    try:
        text = announcement("C", 45, COUNTER, "en")
        slow_path, fast_path = await slow.wav(text, "en"), await fast.wav(text, "en")
        assert slow_path is not None and fast_path is not None
        assert slow_path.name != fast_path.name
        assert wav_info(slow_path)[3] > wav_info(fast_path)[3] * 1.4  # the rate is applied
    finally:
        await slow.close()
        await fast.close()


@pytest.mark.usefixtures("espeak_ng")
async def test_a_fresh_worker_speaks_at_the_configured_rate(tmp_path: Path) -> None:
    # espeak-ng once let the first text of a new worker run at the previous
    # rate (pyttsx3's 200): the same text from fresh workers must match.
    text = announcement("A", 1, COUNTER, "ja")
    lengths = []
    for i in range(4):
        fresh = Synthesizer(tmp_path / f"w{i}")
        try:
            path = await fresh.wav(text, "ja")
        finally:
            await fresh.close()
        assert path is not None
        lengths.append(wav_info(path)[3])
    assert max(lengths) - min(lengths) < 0.01 * max(lengths), lengths


async def test_concurrent_requests_are_serialised(synth: Synthesizer) -> None:
    texts = [(lang, announcement("A", n, COUNTER, lang)) for n in (1, 2, 3) for lang in LANGS]
    # The same text asked twice at once is made once.
    texts.append(texts[0])
    paths = await asyncio.gather(*(synth.wav(text, lang) for lang, text in texts))
    assert all(p is not None for p in paths)
    assert paths[0] == paths[-1]
    assert synth.synthesized == len(texts) - 1
    runs = sorted(synth.history)
    assert len(runs) == synth.synthesized
    for (_, end), (start, _) in itertools.pairwise(runs):
        assert end <= start, "two syntheses overlapped"
    assert leftovers(synth.cache_dir) == []


async def test_a_caller_that_stops_waiting_leaves_the_file_for_the_next(
        synth: Synthesizer) -> None:
    await synth.voices()
    text = announcement("D", 321, COUNTER, "vi")
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.0001):
            await synth.wav(text, "vi")
    path = await synth.wav(text, "vi")
    assert path is not None and synth.synthesized == 1


async def test_a_dead_worker_is_replaced(synth: Synthesizer) -> None:
    assert await synth.wav("テスト いち", "ja") is not None
    proc = synth._proc
    assert proc is not None
    proc.kill()
    await proc.wait()
    assert await synth.wav("テスト に", "ja") is not None
    assert synth._proc is not None and synth._proc.pid != proc.pid
    replacement = synth._proc
    await synth.close()
    assert synth._proc is None and replacement.returncode is not None
    with pytest.raises(ProcessLookupError):  # exited and reaped
        os.kill(replacement.pid, 0)
    assert await synth.wav("テスト さん", "ja") is None  # closed: no new work


@pytest.mark.parametrize("script", [
    "print('{\"error\": \"RuntimeError: could not initialize espeak\"}')",  # no engine
    "pass",  # exits without a word
])
async def test_no_engine_means_no_audio_not_an_error(tmp_path: Path, script: str) -> None:
    broken = Synthesizer(tmp_path / "audio", worker_command=(sys.executable, "-c", script))
    try:
        assert await broken.voices() == {}
        assert await broken.wav("テスト", "ja") is None
        assert await broken.wav("test", "en") is None
    finally:
        await broken.close()


def test_prune_removes_old_files_and_orphaned_temp_files(tmp_path: Path) -> None:
    synth = Synthesizer(tmp_path, max_age=100)
    now = 1_000_000.0
    files = {name: tmp_path / name for name in (
        "a" * 64 + ".wav", "b" * 64 + ".wav", "." + "c" * 64 + ".1.ab.tmp",
        "." + "d" * 64 + ".1.ab.tmp")}
    ages = dict(zip(files, (50, 150, 60, 4000), strict=True))
    for name, path in files.items():
        path.write_bytes(b"x")
        os.utime(path, (now - ages[name], now - ages[name]))
    assert synth.prune(now) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["a" * 64 + ".wav", "." + "c" * 64 + ".1.ab.tmp"])


def test_choose_voices_prefers_the_listed_order() -> None:
    voices = [{"id": "sit/cmn", "languages": ["cmn"]},
              {"id": "sit/cmn-latn-pinyin", "languages": ["cmn-latn-pinyin"]},
              {"id": "gmw/en", "languages": ["en-gb"]}, {"id": "jpx/ja", "languages": ["ja"]}]
    assert choose_voices(voices) == {"ja": "jpx/ja", "en": "gmw/en",
                                     "zh-Hans": "sit/cmn-latn-pinyin"}
    assert choose_voices(voices[:1]) == {"zh-Hans": "sit/cmn"}


def test_wav_checks(tmp_path: Path) -> None:
    silent = tmp_path / "silent.wav"
    with wave.open(str(silent), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(22_050)
        w.writeframes(b"\0\0" * 22_050)
    assert wav_rms(silent) == 0.0 and check_wav(silent) is None
    (tmp_path / "junk.wav").write_bytes(b"RIFF....not a wave")
    assert check_wav(tmp_path / "junk.wav") is None
    assert check_wav(tmp_path / "missing.wav") is None


def _tone_power(samples: list[int], freq: float, rate: int) -> float:
    """Goertzel: the power of one frequency in a block of samples."""
    coeff = 2 * math.cos(2 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coeff * s1 - s2, s1
    return s1 * s1 + s2 * s2 - coeff * s1 * s2


def test_chime_is_two_tones_high_then_low(tmp_path: Path) -> None:
    path = tmp_path / "chime.wav"
    path.write_bytes(chime_wav())
    channels, width, rate, seconds = wav_info(path)
    assert (channels, width, rate) == (1, 2, 22_050) and 1.0 < seconds < 3.0
    assert check_wav(path) is not None
    with wave.open(str(path), "rb") as w:
        data = w.readframes(w.getnframes())
    samples = [int.from_bytes(data[i:i + 2], "little", signed=True) for i in range(0, len(data), 2)]
    first = samples[int(0.05 * rate):int(0.35 * rate)]
    later = samples[int(0.9 * rate):int(1.2 * rate)]
    assert _tone_power(first, 659.25, rate) > 10 * _tone_power(first, 523.25, rate)
    assert _tone_power(later, 523.25, rate) > 10 * _tone_power(later, 659.25, rate)
    assert abs(samples[0]) < 100 and abs(samples[-1]) < 100  # no clicks
    assert chime_wav() is chime_wav()  # made once per process
