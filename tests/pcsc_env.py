"""pcscd with Debian's virtual reader (vpcd) and the simulated card
(tests/card_sim.py), for the card reader tests.

Debian's vpcd listens on *all* interfaces (ports 35963/35964): anyone on the
network could play a card into it. So pcscd runs in a private network
namespace (``unshare --net``, then ``ip link set lo up``) and the simulator
joins that namespace (``nsenter --net``); nothing listens in the host's.

pcscd's socket and pid file live in /run/pcscd, a fixed path: pcscd also
gets a private mount namespace in which a test folder is bound over
/run/pcscd, so a pcscd of the machine (if any) is neither seen nor
disturbed. The test process talks to it through libpcsclite's
``PCSCLITE_CSOCK_NAME``, which the library reads once per process — hence
one socket folder per test process, reused by every environment in turn.

pcscd runs at info level (reader and card events; readiness). Never ``-a``
or ``-d`` outside a test: they log APDUs, PINs included.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.card_sim import VPCD_PORT, CardSpec

REPO = Path(__file__).resolve().parent.parent
PCSCD = shutil.which("pcscd") or "/usr/sbin/pcscd"
VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
# The first of vpcd's two readers (port 35963).
READER = "Virtual PCD 00 00"
START_WITHIN = 10.0
# The private namespaces: loopback up, our folder over /run/pcscd, pcscd in
# the foreground (it stays this process, so its pid names the namespace).
NAMESPACE_SCRIPT = (
    'set -e; ip link set lo up; mkdir -p /run/pcscd; mount --bind "$1" /run/pcscd; '
    'exec "$2" --foreground --info --config "$3"'
)
VPCD_CONF = (
    'FRIENDLYNAME "Virtual PCD"\n'
    f"DEVICENAME   /dev/null:0x{VPCD_PORT:04X}\n"
    f"LIBPATH      {VPCD_DRIVER}\n"
    f"CHANNELID    0x{VPCD_PORT:04X}\n"
)

_socket_dir: Path | None = None


def socket_dir() -> Path:
    """This process's pcscd socket folder; points libpcsclite at it (before
    its first use, which caches the path)."""
    global _socket_dir
    if _socket_dir is None:
        _socket_dir = Path(tempfile.mkdtemp(prefix="madoguchi-pcsc-"))
        atexit.register(shutil.rmtree, _socket_dir, ignore_errors=True)
        os.environ["PCSCLITE_CSOCK_NAME"] = str(_socket_dir / "pcscd.comm")
    return _socket_dir


def unavailable() -> str | None:
    """Why the real PC/SC stack cannot run here, or None."""
    try:
        import smartcard.scard  # noqa: F401
    except ImportError:
        return "pyscard is not installed (pip install -e '.[dev]'; needs swig, libpcsclite-dev)"
    if not os.path.exists(PCSCD):
        return "pcscd missing: apt-get install pcscd"
    if not VPCD_DRIVER.exists():
        return "vpcd missing: apt-get install vsmartcard-vpcd"
    for tool in ("unshare", "nsenter", "ip", "mount"):
        if shutil.which(tool) is None:
            return f"{tool} missing: apt-get install util-linux iproute2"
    probe = subprocess.run(["unshare", "--net", "--mount", "true"], capture_output=True,
                           text=True, check=False)
    if probe.returncode != 0:
        return ("cannot create a private network namespace (unshare --net --mount needs "
                f"CAP_SYS_ADMIN): {probe.stderr.strip()}")
    return None


def _read_line(stream: Any, within: float) -> str:
    """One line from a child's stdout pipe, or "" at end or timeout."""
    fd = stream.fileno()
    buf = b""
    deadline = time.monotonic() + within
    while not buf.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            return ""
        part = os.read(fd, 1)
        if not part:
            break
        buf += part
    return buf.decode(errors="replace")


def _stop(process: subprocess.Popen[bytes], within: float = 5.0) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(within)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class SimulatedCard:
    """A running card simulator: the card is in the reader while it runs."""

    def __init__(self, process: subprocess.Popen[bytes], log: Path) -> None:
        self.process = process
        self.log = log

    def apdus(self) -> list[dict[str, str]]:
        """Every APDU the card received, in order ({"apdu": hex, "sw": hex})."""
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines() if line]

    def remove(self) -> None:
        _stop(self.process)


class PcscEnv:
    """One pcscd in private namespaces; `readers=False` starts it without
    the vpcd driver (a PC with no card reader)."""

    def __init__(self, workdir: Path, *, readers: bool = True) -> None:
        self.workdir = workdir
        self.readers = readers
        self.pcscd: subprocess.Popen[bytes] | None = None
        self.cards: list[SimulatedCard] = []
        self.log: list[str] = []
        self._ready = threading.Event()

    def start(self) -> PcscEnv:
        sockets = socket_dir()
        for stale in ("pcscd.comm", "pcscd.pid"):  # from a pcscd that was killed
            with contextlib.suppress(FileNotFoundError):
                (sockets / stale).unlink()
        conf = self.workdir / "reader.conf.d"
        conf.mkdir(parents=True, exist_ok=True)
        if self.readers:
            (conf / "vpcd").write_text(VPCD_CONF)
        self.pcscd = subprocess.Popen(
            ["unshare", "--net", "--mount", "sh", "-c", NAMESPACE_SCRIPT, "pcsc-env",
             str(sockets), PCSCD, str(conf)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        threading.Thread(target=self._drain, daemon=True).start()
        if not (self._ready.wait(START_WITHIN) and self._answers(START_WITHIN)):
            self.stop()
            raise RuntimeError("pcscd did not start:\n" + "".join(self.log))
        return self

    def _answers(self, within: float) -> bool:
        """pcscd says "daemon ready" a moment before its socket exists:
        wait until a client gets a context."""
        from smartcard import scard

        deadline = time.monotonic() + within
        while time.monotonic() < deadline and self.pcscd is not None \
                and self.pcscd.poll() is None:
            hr, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
            if hr == scard.SCARD_S_SUCCESS:
                scard.SCardReleaseContext(context)
                return True
            # Polling the readiness of a child process, not a test race.
            time.sleep(0.01)
        return False

    def _drain(self) -> None:
        """Keep pcscd's log (so its pipe never fills); note readiness."""
        assert self.pcscd is not None and self.pcscd.stdout is not None
        for raw in self.pcscd.stdout:
            line = raw.decode(errors="replace")
            self.log.append(line)
            if "daemon ready" in line:
                self._ready.set()

    def insert(self, spec: CardSpec | None = None) -> SimulatedCard:
        """Start the simulator in pcscd's network namespace; returns once it
        is connected to vpcd (pcscd then sees the card on its next poll)."""
        assert self.pcscd is not None and self.readers
        n = len(self.cards)
        spec_path, log = self.workdir / f"card{n}.json", self.workdir / f"card{n}.apdus.jsonl"
        (spec or CardSpec()).save(spec_path)
        process = subprocess.Popen(
            ["nsenter", f"--net=/proc/{self.pcscd.pid}/ns/net", sys.executable, "-m",
             "tests.card_sim", "--spec", str(spec_path), "--log", str(log)],
            cwd=str(REPO), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
        card = SimulatedCard(process, log)
        self.cards.append(card)
        assert process.stdout is not None
        if _read_line(process.stdout, START_WITHIN).strip() != "inserted":
            card.remove()
            raise RuntimeError("the card simulator did not reach vpcd")
        return card

    def stop(self) -> None:
        for card in self.cards:
            card.remove()
        if self.pcscd is not None:
            _stop(self.pcscd)


@contextlib.contextmanager
def pcsc_env(workdir: Path, *, readers: bool = True) -> Iterator[PcscEnv]:
    env = PcscEnv(workdir, readers=readers).start()
    try:
        yield env
    finally:
        env.stop()
