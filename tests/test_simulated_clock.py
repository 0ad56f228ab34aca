"""The development-only simulated clock (bench/day_simulation.py moves a real
server's time through a file): refused without development mode, read at
every call when allowed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from queue_server.cli import main as cli_main
from queue_server.clock import SimulatedClockRefused, configured_clock, system_clock


def write_clock(path: Path, value: float) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(repr(value))
    os.replace(tmp, path)


def test_real_clock_without_the_setting() -> None:
    assert configured_clock("", development=False) is system_clock
    assert configured_clock("", development=True) is system_clock


def test_refused_without_development_mode(tmp_path: Path) -> None:
    path = tmp_path / "clock"
    write_clock(path, 1_800_000_000.0)
    with pytest.raises(SimulatedClockRefused):
        configured_clock(str(path), development=False)


def test_reads_the_file_at_every_call(tmp_path: Path) -> None:
    path = tmp_path / "clock"
    write_clock(path, 1_800_000_000.0)
    clock = configured_clock(str(path), development=True)
    assert clock() == 1_800_000_000.0
    write_clock(path, 1_800_000_060.5)
    assert clock() == 1_800_000_060.5


def test_missing_file_fails_at_start(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        configured_clock(str(tmp_path / "absent"), development=True)


def test_serve_refuses_a_simulated_clock_in_production(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "clock"
    write_clock(path, 1_800_000_000.0)
    monkeypatch.setenv("MADOGUCHI_SIMULATED_CLOCK_FILE", str(path))
    monkeypatch.delenv("MADOGUCHI_DEVELOPMENT", raising=False)
    assert cli_main(["serve", "--port", "1"]) == 2
    assert "MADOGUCHI_DEVELOPMENT" in capsys.readouterr().err
