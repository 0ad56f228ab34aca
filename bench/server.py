"""A `madoguchi serve` process for the HTTP and websocket benchmarks.

The server under test runs as its own process, exactly as in production
(`madoguchi serve`), under a throw-away tenant (`bench<hex>`) on a free
loopback port. Demo data is loaded with `madoguchi demo` and tokens are made
with `madoguchi token create`, both with the same environment, so the
benchmark goes through the same commands an operator would use. On exit the
server is stopped and every key of the tenant is deleted.

Profiling: with BENCH_PY_SPY=<path to py-spy> and BENCH_PY_SPY_OUT=<file> in
the environment, `py-spy record --nonblocking --format raw` samples the
server process for its whole life and writes collapsed stacks to the file
(py-spy is not a dependency; install it anywhere, e.g. `pip install --target`).

Experiments: BENCH_SERVER_COMMAND (split like a shell would) replaces
`madoguchi serve` as the server command, e.g. a script that patches the server
before calling `queue_server.cli.main(["serve"])`; the JSON names it.

Also here: small helpers the HTTP benchmarks share (percentiles, CPU time and
RSS of a process from /proc, the fd limit), kept independent of the
engine benchmarks' `bench/common.py`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import redis

from .common import percentile

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
OFFICE = "kokurakita"
LOG_LEVEL = "WARNING"  # per-request INFO logs would dominate the measurement
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def default_redis_url() -> str:
    return os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL


def madoguchi_command() -> list[str]:
    """The `madoguchi` console script of this interpreter's environment, else
    the module (same code, no console-script shim)."""
    script = Path(sys.executable).with_name("madoguchi")
    if script.exists():
        return [str(script)]
    found = shutil.which("madoguchi")
    return [found] if found else [sys.executable, "-m", "queue_server.cli"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def raise_nofile(wanted: int) -> tuple[int, int]:
    """Raise this process's soft RLIMIT_NOFILE towards `wanted` (never above
    the hard limit). Returns the (soft, hard) limits now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def nofile_limit(pid: int) -> int | None:
    """The soft 'Max open files' of another process (from /proc)."""
    try:
        for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
            if line.startswith("Max open files"):
                value = line.split()[3]
                return None if value == "unlimited" else int(value)
    except OSError:
        return None
    return None


def rss_kb(pid: int) -> int:
    """Resident set size of a process in KiB (VmRSS of /proc/<pid>/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used (utime + stime)."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    fields = raw[raw.rindex(")") + 2 :].split()  # the command name may hold spaces
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def redis_cpu_seconds(url: str) -> float | None:
    """CPU time the Redis server has used (INFO cpu), or None if unknown."""
    try:
        client = redis.Redis.from_url(url)
        try:
            info = client.info("cpu")
        finally:
            client.close()
        return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])
    except (redis.RedisError, OSError, KeyError):
        return None


def summary_ms(values_s: Sequence[float]) -> dict[str, Any]:
    """n, p50/p95/p99/mean/min/max in milliseconds of latencies in seconds."""
    ms = sorted(v * 1000 for v in values_s)
    if not ms:
        return {"n": 0}
    r = lambda v: round(v, 3)  # noqa: E731
    return {
        "n": len(ms),
        "p50_ms": r(percentile(ms, 50)),
        "p95_ms": r(percentile(ms, 95)),
        "p99_ms": r(percentile(ms, 99)),
        "mean_ms": r(sum(ms) / len(ms)),
        "min_ms": r(ms[0]),
        "max_ms": r(ms[-1]),
    }


def delete_tenant(url: str, tenant: str) -> int:
    """UNLINK every key of the tenant: office keys `mg:{tenant:office}:...`
    and tenant-wide keys `mg:{tenant}:...` (both match `mg:{tenant*`)."""
    client = redis.Redis.from_url(url)
    deleted = 0
    try:
        batch: list[bytes] = []
        for key in client.scan_iter(match=f"mg:{{{tenant}*", count=1000):
            batch.append(key)
            if len(batch) >= 500:
                deleted += client.unlink(*batch)
                batch = []
        if batch:
            deleted += client.unlink(*batch)
    finally:
        client.close()
    return deleted


class BenchServer:
    """`with BenchServer(redis_url) as srv:` loads demo data, makes tokens on
    demand (`srv.token("kiosk")`), runs `madoguchi serve` until exit."""

    def __init__(
        self,
        redis_url: str | None = None,
        *,
        nofile: int = 65536,
        start_timeout: float = 30.0,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.redis_url = redis_url or default_redis_url()
        self.tenant = "bench" + secrets.token_hex(4)
        self.port = free_port()
        self.host = "127.0.0.1"
        self.nofile = nofile
        self.start_timeout = start_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self._tmp = tempfile.TemporaryDirectory(prefix="madoguchi-bench-")
        self._stderr_path = Path(self._tmp.name) / "server.stderr"
        self._stderr: Any = None
        self.env = {
            **os.environ,
            "REDIS_URL": self.redis_url,
            "MADOGUCHI_TENANT": self.tenant,
            "MADOGUCHI_HOST": self.host,
            "MADOGUCHI_PORT": str(self.port),
            "MADOGUCHI_LOG_LEVEL": LOG_LEVEL,
            # Never touch the working tree's var/ (only used without REDIS_URL).
            "MADOGUCHI_VAR_DIR": str(Path(self._tmp.name) / "var"),
            **(extra_env or {}),
        }
        self.deleted_keys = 0
        self._profiler: subprocess.Popen[bytes] | None = None

    # -- lifecycle -------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError("server not started")
        return self.process.pid

    @property
    def serve_command(self) -> list[str]:
        custom = os.environ.get("BENCH_SERVER_COMMAND")
        return shlex.split(custom) if custom else [*madoguchi_command(), "serve"]

    def cli(self, *args: str, timeout: float = 60.0) -> str:
        """Run one `madoguchi` command with the server's environment."""
        done = subprocess.run(
            [*madoguchi_command(), *args], env=self.env, capture_output=True, text=True,
            timeout=timeout, stdin=subprocess.DEVNULL, check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"madoguchi {' '.join(args)} failed ({done.returncode}): "
                               f"{done.stderr.strip()[-2000:]}")
        return done.stdout

    def token(self, role: str, office: str = OFFICE) -> str:
        out = self.cli("token", "create", "--role", role, "--office", office, "--label", "bench")
        return out.strip().splitlines()[0]

    def start(self) -> BenchServer:
        # Children inherit rlimits: raising ours raises the server's (no
        # preexec_fn, which is unsafe once threads exist).
        raise_nofile(self.nofile)
        self.cli("demo", "--always-open")  # benchmarks run at any hour
        self._stderr = self._stderr_path.open("wb")
        self.process = subprocess.Popen(
            self.serve_command, env=self.env, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=self._stderr, start_new_session=True,
        )
        deadline = time.monotonic() + self.start_timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"madoguchi serve exited with {self.process.returncode}: "
                                   f"{self.stderr_tail()}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/readyz", timeout=2) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"madoguchi serve not ready in time: {self.stderr_tail()}")
            time.sleep(0.05)  # polling a child process's readiness
        self._start_profiler()
        return self

    def _start_profiler(self) -> None:
        spy, out = os.environ.get("BENCH_PY_SPY"), os.environ.get("BENCH_PY_SPY_OUT")
        if not (spy and out):
            return
        self._profiler = subprocess.Popen(
            [spy, "record", "--pid", str(self.pid), "--nonblocking", "--format", "raw",
             "--rate", "250", "--output", out],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )

    def _stop_profiler(self) -> None:
        prof, self._profiler = self._profiler, None
        if prof is not None and prof.poll() is None:
            prof.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
            try:
                prof.wait(timeout=30)
            except subprocess.TimeoutExpired:
                prof.kill()
                prof.wait()

    def stderr_tail(self, limit: int = 2000) -> str:
        try:
            return self._stderr_path.read_text(errors="replace")[-limit:]
        except OSError:
            return ""

    def stop(self) -> int | None:
        """SIGTERM (aiohttp shuts down cleanly), SIGKILL after 10 s.
        Returns the exit code."""
        self._stop_profiler()
        proc, self.process = self.process, None
        code = None
        if proc is not None:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            code = proc.returncode
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        return code

    def cleanup(self) -> None:
        self.stop()
        with contextlib.suppress(redis.RedisError, OSError):
            self.deleted_keys = delete_tenant(self.redis_url, self.tenant)
        self._tmp.cleanup()

    def __enter__(self) -> BenchServer:
        try:
            return self.start()
        except BaseException:
            self.cleanup()
            raise

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cleanup()

    # -- measurements -----------------------------------------------------

    def rss_kb(self) -> int:
        return rss_kb(self.pid)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    def describe(self) -> dict[str, Any]:
        return {
            "command": os.environ.get("BENCH_SERVER_COMMAND") or "madoguchi serve",
            "pid": self.pid,
            "tenant": self.tenant,
            "port": self.port,
            "redis_url": _redact(self.redis_url),
            "log_level": LOG_LEVEL,
            "nofile_soft_limit": nofile_limit(self.pid),
        }


def _redact(url: str) -> str:
    """A Redis URL without its password."""
    if "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***@{rest.rpartition('@')[2]}"


def machine() -> dict[str, Any]:
    import platform

    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        # Other work on the machine skews every number: say how busy it was.
        "loadavg_1m_at_start": round(os.getloadavg()[0], 2),
    }


def bench_parser(module: str, doc: str | None) -> argparse.ArgumentParser:
    """The argument parser every server benchmark starts from."""
    p = argparse.ArgumentParser(prog=f"python -m {module}", description=doc,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--redis-url", default=default_redis_url(),
                   help="Redis for the server (default: $REDIS_URL or %(default)s)")
    return p


def with_server_stderr(result: dict[str, Any], stderr: str) -> dict[str, Any]:
    if stderr.strip():
        result["server_stderr_tail"] = stderr
    return result


def join_all(procs: Sequence[Any]) -> None:
    """Wait for the client processes; end any that hang."""
    for p in procs:
        p.join(timeout=30)
        if p.is_alive():
            p.terminate()
            p.join()


def raise_failures(results: Sequence[dict[str, Any]], who: str) -> None:
    failures = [r["error"] for r in results if "error" in r]
    if failures:
        raise RuntimeError(f"{who} failed: {failures}")
