"""Server-side speech for announcements: pyttsx3 on espeak-ng, cached on disk.

pyttsx3's engine is one per process, not thread-safe, and fails quietly on
some input (kanji come out as "Chinese letter" or nothing; punctuation alone
gives a silent file). So:

- one worker *process* (``python -m displays.tts``) owns the engine and
  synthesises one text at a time; a process, not a thread, because a stuck
  engine can be killed and replaced, and the CPU work stays off the web
  process's event loop;
- the worker checks every file (valid WAV, long enough, RMS above a
  threshold) before it renames it into the cache; callers get ``None`` and
  fall back to the browser's speech synthesis;
- the cache file name is sha256(version, voice, rate, text), written to a
  temporary name and renamed, so several web processes can share the dir.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import hashlib
import io
import json
import logging
import math
import os
import secrets
import sys
import threading
import time
import wave
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

log = logging.getLogger("madoguchi.tts")

# espeak-ng voices per announcement language, best first. Mandarin: the
# "latin as pinyin" voice reads hanzi correctly in espeak-ng 1.51, where the
# plain cmn voice spells many of them out as pinyin with English tone digits.
VOICE_PREFERENCES: dict[str, tuple[str, ...]] = {
    "ja": ("ja",),
    "en": ("en-us", "en", "en-gb"),
    "ko": ("ko",),
    "zh-Hans": ("cmn-latn-pinyin", "cmn", "zh"),
    "vi": ("vi",),
}
# Words per minute. espeak's default is 175; announcements for a lobby full
# of elderly citizens are clearer slower.
DEFAULT_RATE = 130
# 16-bit RMS: speech measures ~2,500-4,500, a silent file 0.
MIN_RMS = 100.0
MIN_SECONDS = 0.3
# Part of the cache key: bump it when the synthesis itself changes.
CACHE_VERSION = "1"
# A text whose synthesis failed is not tried again for this long.
FAILED_TTL = 60.0
SAMPLE_RATE = 22_050
# How long the worker waits for espeak to finish one text (a sentence takes
# ~20-50 ms); past it the worker exits and the next job starts a new one.
UTTERANCE_TIMEOUT = 15.0
# How often (seconds) the cache is pruned, and the age of an orphaned temp file.
PRUNE_INTERVAL = 3600.0


def speakable(text: str, lang: str) -> bool:
    """False for text the voice would misread: Japanese with kanji (espeak-ng
    says "Chinese letter" for each); the caller falls back to the browser."""
    if lang == "ja":
        return not any("\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" for ch in text)
    return True


def cache_key(text: str, voice: str, rate: int) -> str:
    raw = "\0".join((CACHE_VERSION, voice, str(rate), text))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def wav_rms(path: Path, min_seconds: float = MIN_SECONDS) -> float | None:
    """The RMS of a 16-bit WAV file, or None when it is missing, not a WAV,
    not 16-bit or shorter than `min_seconds`."""
    try:
        with wave.open(str(path), "rb") as w:
            if w.getsampwidth() != 2 or w.getframerate() <= 0:
                return None
            seconds = w.getnframes() / w.getframerate()
            frames = w.readframes(w.getnframes())
    except (OSError, EOFError, wave.Error):
        return None
    samples = array.array("h")
    samples.frombytes(frames[: len(frames) // 2 * 2])
    if sys.byteorder == "big":
        samples.byteswap()
    if seconds < min_seconds or not samples:
        return None
    return math.sqrt(math.fsum(s * s for s in samples) / len(samples))


def check_wav(path: Path, min_rms: float = MIN_RMS) -> float | None:
    """The RMS when `path` is a valid, non-silent WAV; otherwise None."""
    rms = wav_rms(path)
    return rms if rms is not None and rms >= min_rms else None


def choose_voices(voices: Iterable[Mapping[str, Any]],
                  preferences: Mapping[str, tuple[str, ...]] = VOICE_PREFERENCES,
                  ) -> dict[str, str]:
    """language -> voice id among the installed voices (a language without
    one is left out). A voice matches by its id's last part ("gmw/en-us" →
    en-us) or by one of its languages."""
    names: dict[str, str] = {}
    for voice in voices:
        vid = str(voice["id"])
        for name in (vid.rsplit("/", 1)[-1], *(voice.get("languages") or ())):
            names.setdefault(str(name).lower(), vid)
    chosen: dict[str, str] = {}
    for lang, wanted in preferences.items():
        vid = next((names[w] for w in wanted if w in names), None)
        if vid is not None:
            chosen[lang] = vid
    return chosen


@cache
def chime_wav() -> bytes:
    """A two-tone chime (E5 then C5, bell-like decay), 22,050 Hz 16-bit mono:
    the "ピンポーン" before an announcement."""
    notes = ((659.25, 0.0), (523.25, 0.42))  # (frequency, start in seconds)
    seconds = 1.8
    attack = 0.008  # a short rise, so the tone starts without a click
    n = int(SAMPLE_RATE * seconds)
    out = [0.0] * n
    for freq, start in notes:
        first = int(start * SAMPLE_RATE)
        for i in range(first, n):
            t = (i - first) / SAMPLE_RATE
            envelope = min(1.0, t / attack) * math.exp(-3.2 * t)
            phase = 2 * math.pi * freq * t
            out[i] += envelope * (math.sin(phase) + 0.25 * math.sin(2 * phase))
    # Fade the last 50 ms to zero so the file ends without a click.
    fade = int(0.05 * SAMPLE_RATE)
    for i in range(fade):
        out[n - fade + i] *= 1 - i / fade
    peak = max(abs(x) for x in out)
    pcm = array.array("h", (round(x / peak * 0.5 * 32767) for x in out))
    if sys.byteorder == "big":
        pcm.byteswap()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(pcm.tobytes())
    return buffer.getvalue()


# -- the parent side -------------------------------------------------------------


@dataclass
class _Job:
    key: str
    text: str
    voice: str
    future: asyncio.Future[Path | None]


@dataclass
class Synthesizer:
    """Speech files for (text, language), made by one worker process.

    ``await synth.wav(text, lang)`` returns the cached file, or queues the
    text for the worker; it returns None when there is no voice for the
    language, the output was silent or invalid, or the worker failed or was
    too slow. Jobs run strictly one after another, in the order asked; the
    same text asked twice while queued is synthesised once.
    """

    cache_dir: Path
    rate: int = DEFAULT_RATE
    min_rms: float = MIN_RMS
    job_timeout: float = 30.0  # a worker silent this long is killed and replaced
    max_queue: int = 200
    # The worker's command line; None: this module under the running Python.
    worker_command: tuple[str, ...] | None = None
    # Files older than this are deleted (an announcement that comes back, the
    # same number at the same counter another day, is made again in ~30 ms);
    # without it a busy office would add hundreds of MB a day.
    max_age: float = 2 * 86_400
    # Worker-reported (start, end) monotonic times of recent syntheses: tests
    # check they never overlap.
    history: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=200),
                                                repr=False)
    synthesized: int = 0  # files made by this process's worker
    # Run-time state, not configuration (kept out of repr).
    _voices: dict[str, str] | None = field(default=None, repr=False)
    _all_voices: list[dict[str, Any]] = field(default_factory=list, repr=False)
    _proc: asyncio.subprocess.Process | None = field(default=None, repr=False)
    _queue: asyncio.Queue[_Job] | None = field(default=None, repr=False)
    _runner: asyncio.Task[None] | None = field(default=None, repr=False)
    _ready: asyncio.Future[None] | None = field(default=None, repr=False)
    _inflight: dict[str, asyncio.Future[Path | None]] = field(default_factory=dict, repr=False)
    _failed: dict[str, float] = field(default_factory=dict, repr=False)
    _seq: int = field(default=0, repr=False)
    _closed: bool = field(default=False, repr=False)
    _pruned_at: float = field(default=float("-inf"), repr=False)

    # -- public -------------------------------------------------------------

    async def voices(self) -> dict[str, str]:
        """language -> espeak-ng voice id (starts the worker on first use)."""
        await self._started()
        return dict(self._voices or {})

    async def installed_voices(self) -> list[dict[str, Any]]:
        """Every voice the engine offers: id, name, languages."""
        await self._started()
        return list(self._all_voices)

    def path(self, key: str) -> Path:
        return self.cache_dir / f"{key}.wav"

    def cached(self, key: str) -> Path | None:
        path = self.path(key)
        return path if path.is_file() else None

    async def key(self, text: str, lang: str) -> str | None:
        voice = (await self.voices()).get(lang)
        return cache_key(text.strip(), voice, self.rate) if voice else None

    async def wav(self, text: str, lang: str) -> Path | None:
        """The speech file of `text` in `lang`, or None (see the class doc).
        A caller may stop waiting (cancel, asyncio.timeout): the synthesis
        goes on and lands in the cache for the next request."""
        text = text.strip()
        if not text or self._closed:
            return None
        voice = (await self.voices()).get(lang)
        if voice is None or not speakable(text, lang):
            return None
        key = cache_key(text, voice, self.rate)
        path = self.cached(key)
        if path is not None:
            return path
        failed_at = self._failed.get(key)
        if failed_at is not None and time.monotonic() - failed_at < FAILED_TTL:
            return None
        future = self._inflight.get(key)
        if future is None:
            assert self._queue is not None
            if self._queue.qsize() >= self.max_queue:
                return None
            future = asyncio.get_running_loop().create_future()
            self._inflight[key] = future
            self._queue.put_nowait(_Job(key, text, voice, future))
        # Shielded: a caller that gives up leaves the job to finish for the next.
        return await asyncio.shield(future)

    async def close(self) -> None:
        """Stop the worker (it finishes nothing more) and fail waiting jobs."""
        self._closed = True
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
            self._runner = None
        for future in self._inflight.values():
            if not future.done():
                future.set_result(None)
        self._inflight.clear()
        await self._stop_worker()

    # -- internals ---------------------------------------------------------------

    async def _started(self) -> None:
        if self._ready is None:
            self._ready = asyncio.get_running_loop().create_future()
            self._queue = asyncio.Queue()
            self._runner = asyncio.create_task(self._run(), name="tts-worker")
        await asyncio.shield(self._ready)

    async def _run(self) -> None:
        assert self._ready is not None and self._queue is not None
        try:
            await self._spawn()
        except Exception as exc:  # no pyttsx3/espeak-ng: server audio is off
            log.warning("speech synthesis unavailable", extra={"error": str(exc)[:200]})
            self._voices = {}
        finally:
            if self._voices is None:
                self._voices = {}
            if not self._ready.done():
                self._ready.set_result(None)
        while True:
            job = await self._queue.get()
            await self._maybe_prune()
            path = None
            # espeak-ng now and then gives no usable file for one text on a
            # busy machine: a fresh worker gets one more try.
            for attempt in range(2):
                try:
                    path = await self._synthesize(job)
                except Exception as exc:  # a broken worker: replace it, keep serving
                    log.warning("speech synthesis failed", extra={"error": type(exc).__name__})
                    path = None
                if path is not None:
                    break
                if attempt == 0:
                    await self._stop_worker()
            if path is None:
                self._remember_failure(job.key)
            if not job.future.done():
                job.future.set_result(path)
            self._inflight.pop(job.key, None)

    def prune(self, now: float | None = None) -> int:
        """Delete cached files older than `max_age` and temporary files a
        killed worker left (blocking: run it in a thread). Returns how many."""
        now = time.time() if now is None else now
        removed = 0
        for pattern, age in (("*.wav", self.max_age), (".*.tmp", PRUNE_INTERVAL)):
            for path in self.cache_dir.glob(pattern):
                with contextlib.suppress(OSError):  # another process got there first
                    if now - path.stat().st_mtime > age:
                        path.unlink()
                        removed += 1
        return removed

    async def _maybe_prune(self) -> None:
        if time.monotonic() - self._pruned_at < PRUNE_INTERVAL:
            return
        self._pruned_at = time.monotonic()
        try:
            await asyncio.to_thread(self.prune)
        except OSError as exc:
            log.warning("speech cache prune failed", extra={"error": type(exc).__name__})

    def _remember_failure(self, key: str) -> None:
        now = time.monotonic()
        if len(self._failed) > 1000:
            self._failed = {k: t for k, t in self._failed.items() if now - t < FAILED_TTL}
        self._failed[key] = now

    async def _spawn(self) -> None:
        """Start the worker and read its hello (the installed voices)."""
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        command = self.worker_command or (sys.executable, "-m", "displays.tts")
        proc = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            limit=1 << 20,
        )
        self._proc = proc
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), self.job_timeout)
        hello = json.loads(line or b"{}")
        if "voices" not in hello:
            await self._stop_worker()
            raise RuntimeError(hello.get("error") or "the speech worker did not start")
        if self._voices is None:
            self._all_voices = list(hello["voices"])
            self._voices = choose_voices(self._all_voices)
            log.info("speech voices", extra={"voices": self._voices})

    async def _synthesize(self, job: _Job) -> Path | None:
        if self._proc is None or self._proc.returncode is not None:
            await self._spawn()
        proc = self._proc
        assert proc is not None and proc.stdin is not None and proc.stdout is not None
        self._seq += 1
        final = self.path(job.key)
        tmp = self.cache_dir / f".{job.key}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        request = {"id": self._seq, "text": job.text, "voice": job.voice, "rate": self.rate,
                   "tmp": str(tmp), "final": str(final), "min_rms": self.min_rms}
        proc.stdin.write(json.dumps(request, ensure_ascii=False).encode() + b"\n")
        await proc.stdin.drain()
        try:
            line = await asyncio.wait_for(proc.stdout.readline(), self.job_timeout)
        except TimeoutError:
            log.warning("speech worker too slow; restarting it")
            await self._stop_worker()
            return None
        if not line:
            raise RuntimeError("the speech worker exited")
        reply = json.loads(line)
        if reply.get("id") != self._seq:
            raise RuntimeError("the speech worker answered out of turn")
        if not reply.get("ok"):
            log.warning("speech synthesis gave no usable audio",
                        extra={"voice": job.voice, "error": reply.get("error")})
            return None
        self.synthesized += 1
        self.history.append((float(reply["t0"]), float(reply["t1"])))
        return final

    async def _stop_worker(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        if proc.stdin is not None:
            proc.stdin.close()  # the worker's loop ends at EOF
        try:
            await asyncio.wait_for(proc.wait(), 2.0)
        except TimeoutError:
            proc.kill()
            await proc.wait()


# -- the worker process ---------------------------------------------------------------


def _worker_main() -> None:  # pragma: no cover - runs in the child process
    """Serve synthesis requests, one JSON line in, one out, until EOF."""
    # pyttsx3 prints "Audio saved to …" on stdout: keep our protocol on a
    # private copy of the pipe and send stdout itself to /dev/null.
    proto = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    sys.stdout = open(os.devnull, "w")  # for the life of the process
    with contextlib.suppress(OSError):
        os.nice(5)  # announcements may wait a moment; the web process may not

    def send(message: dict[str, Any]) -> None:
        proto.write(json.dumps(message, ensure_ascii=False) + "\n")

    try:
        import pyttsx3

        engine = pyttsx3.init()
        voices = [{"id": v.id, "name": v.name, "languages": list(v.languages or [])}
                  for v in engine.getProperty("voices")]
    except Exception as exc:
        send({"error": f"{type(exc).__name__}: {exc}"[:300]})
        return
    # pyttsx3 2.99's espeak driver returns from runAndWait() before the
    # synthesis has even started (its queued endLoop stops the loop first);
    # the file is written later from espeak's thread. Wait for the
    # "finished-utterance" notification, which comes after the file is
    # written: else the next job's voice and rate change mid-synthesis.
    finished = threading.Event()
    engine.connect("finished-utterance", lambda **_: finished.set())
    # espeak-ng applies a rate set in its asynchronous mode only by the time
    # its command queue drains; a Synth queued right behind sometimes ran at
    # the previous rate (measured: 1 in 4 fresh workers). Draining the queue
    # after setting voice and rate made it 12 in 12.
    try:
        from pyttsx3.drivers import _espeak

        settle = _espeak.Synchronize
    except (ImportError, AttributeError):
        settle = None
    send({"voices": voices})
    settings: tuple[str, int] | None = None
    for line in iter(sys.stdin.readline, ""):
        request = json.loads(line)
        tmp = Path(request["tmp"])
        reply: dict[str, Any] = {"id": request["id"], "ok": False, "t0": time.monotonic()}
        stuck = False
        try:
            engine.setProperty("voice", request["voice"])
            engine.setProperty("rate", int(request["rate"]))
            if settle is not None:
                settle()
            if settings != (request["voice"], int(request["rate"])):
                # New voice or rate: one throwaway utterance first, since the
                # first text after a change now and then still ran at the
                # old rate (seen in 1 of ~50 fresh workers even after the
                # drain above).
                settings = (request["voice"], int(request["rate"]))
                finished.clear()
                engine.save_to_file(".", str(tmp))
                engine.runAndWait()
                finished.wait(UTTERANCE_TIMEOUT)
            finished.clear()
            engine.save_to_file(request["text"], str(tmp))
            engine.runAndWait()
            stuck = not finished.wait(UTTERANCE_TIMEOUT)
            rms = None if stuck else check_wav(tmp, float(request["min_rms"]))
            if rms is None:
                reply["error"] = "missing, invalid or silent output"
            else:
                os.replace(tmp, request["final"])
                reply.update(ok=True, rms=round(rms, 1))
        except Exception as exc:
            reply["error"] = type(exc).__name__
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
        reply["t1"] = time.monotonic()
        if stuck:
            reply["error"] = "the engine did not finish"
        send(reply)
        if stuck:
            return  # a fresh process gets a fresh engine


if __name__ == "__main__":
    _worker_main()
