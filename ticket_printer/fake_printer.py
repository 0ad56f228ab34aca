"""A fake network receipt printer: TCP on 127.0.0.1 (like port 9100 of a
real one), started by the tests and, as ``madoguchi demo-printer``
(`demo_printer`), by ``make run``'s demo.

It records every byte of every connection, and answers ``DLE EOT n`` status
queries the moment they arrive with the configured status byte — or stays
silent, or closes the connection on accept. Queries are found with the
ESC/POS decoder, so bytes inside a raster are never taken for a query.
Tests wait for finished jobs on a condition variable, never by sleeping.
"""

from __future__ import annotations

import socket
import threading
from typing import Literal

from .escpos_decode import Cmd, DecodeError, decode_prefix

__all__ = ["COVER_OPEN", "OK", "PAPER_END", "PAPER_NEAR_END", "FakePrinter", "closed_port"]

# Replies of an Epson TM-T88 to DLE EOT 1..4 (bits 1 and 4 are always set).
OK = {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x12}
PAPER_NEAR_END = {**OK, 4: 0x12 | 0x0C}
# Paper out: offline (n=1 bit 3), printing stopped by paper end (n=2 bit 5),
# paper-end sensor (n=4 bits 5-6, near-end too).
PAPER_END = {1: 0x12 | 0x08, 2: 0x12 | 0x20, 3: 0x12, 4: 0x12 | 0x0C | 0x60}
COVER_OPEN = {1: 0x12 | 0x08, 2: 0x12 | 0x04, 3: 0x12, 4: 0x12}

Mode = Literal["answer", "silent", "close"]


class FakePrinter:
    def __init__(
        self,
        status: dict[int, int] | None = None,
        mode: Mode = "answer",
        rounds: list[dict[int, int] | None] | None = None,
        port: int = 0,
    ) -> None:
        """`status`: the reply bytes to DLE EOT 1..4. `rounds`: instead, the
        status for each round of four queries in turn (None: silent in that
        round), e.g. ``[OK, PAPER_END]`` for paper running out during a job;
        the last round repeats. `port`: 0 for any free one."""
        self.status = dict(status or OK)
        self.mode: Mode = mode
        self.rounds = rounds
        self.jobs: list[bytes] = []  # one entry per finished connection
        self.queries: list[int] = []  # DLE EOT n values, in order of arrival
        self.errors: list[str] = []  # bytes the decoder could not read
        self._cond = threading.Condition()
        self._listener = socket.create_server(("127.0.0.1", port))
        self.port: int = self._listener.getsockname()[1]
        self._threads: list[threading.Thread] = []
        self._closing = False

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def start(self) -> FakePrinter:
        t = threading.Thread(target=self._accept, name="fake-printer", daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def __enter__(self) -> FakePrinter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._closing = True
        # shutdown() wakes the thread blocked in accept(); close() alone may not.
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()
        for t in self._threads:
            t.join(timeout=5)

    def wait_jobs(self, count: int = 1, timeout: float = 10) -> list[bytes]:
        """Block until `count` connections have finished; their bytes."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.jobs) >= count, timeout):
                raise TimeoutError(f"{len(self.jobs)} of {count} jobs after {timeout} s")
            return list(self.jobs)

    def wait_queries(self, count: int, timeout: float = 10) -> None:
        """Block until `count` status queries have arrived in all."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.queries) >= count, timeout):
                raise TimeoutError(f"{len(self.queries)} of {count} status queries")

    def _accept(self) -> None:
        while not self._closing:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            t.start()
            self._threads.append(t)

    def _serve(self, conn: socket.socket) -> None:
        received = bytearray()
        with conn:
            if self.mode == "close":
                self._finish(bytes(received))
                return
            pending = b""
            kanji = False
            while True:
                try:
                    chunk = conn.recv(65536)
                except OSError:
                    break
                if not chunk:
                    break
                received += chunk
                if self.errors:
                    continue  # lost track of the stream: record, answer no more
                try:
                    commands, used, kanji = decode_prefix(pending + chunk, kanji)
                except DecodeError as e:
                    self.errors.append(str(e))
                    continue
                pending = (pending + chunk)[used:]
                self._answer(conn, commands)
        self._finish(bytes(received))

    def _answer(self, conn: socket.socket, commands: list[Cmd]) -> None:
        for cmd in commands:
            if cmd.name != "status_query":
                continue
            with self._cond:
                self.queries.append(cmd.value)
                self._cond.notify_all()
                status: dict[int, int] | None = self.status
                if self.rounds:
                    status = self.rounds[min((len(self.queries) - 1) // 4, len(self.rounds) - 1)]
            if self.mode == "answer" and status is not None and cmd.value in status:
                try:
                    conn.sendall(bytes([status[cmd.value]]))
                except OSError:
                    return

    def _finish(self, data: bytes) -> None:
        with self._cond:
            self.jobs.append(data)
            self._cond.notify_all()


def closed_port() -> int:
    """A local port where nothing listens (connection refused)."""
    with socket.create_server(("127.0.0.1", 0)) as s:
        return s.getsockname()[1]
