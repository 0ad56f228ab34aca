"""What a newcomer installs. `pip install madoguchi` without extras gives a
server that starts and serves (the ticket preview, which needs the printer
extra's Pillow, answers 503 instead of crashing the start-up), and
`make run` installs nothing that must be compiled (the card reader's pyscard
is built from source: it belongs to `make test` and the kiosk PC)."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
from redis.asyncio import Redis

from queue_server.auth import ALL_OFFICES, Tokens
from queue_server.engine import Engine
from tests.conftest import small_office
from tests.servers import REPO, child_env, free_port

PACKAGES = ("queue_server", "ai_phone", "displays", "ticket_printer", "checkin")
INSTALL_TIMEOUT = 900
# Dependencies of the base install published only as source archives: pure
# Python (no C sources; building them needs setuptools, not a compiler).
# docopt: of num2words; http_ece: of pywebpush.
PURE_PYTHON_SDISTS = {"docopt", "http-ece"}


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project as a fresh clone has it (no .venv, var, build or egg-info
    in the way, and nothing written into the working tree by the build)."""
    root = tmp_path_factory.mktemp("clone") / "madoguchi"
    root.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, root / name)
    for package in PACKAGES:
        shutil.copytree(REPO / package, root / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    return root


@pytest.fixture(scope="module")
def bare_venv(source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtualenv with `pip install <project>`: no extras."""
    venv = tmp_path_factory.mktemp("venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    done = subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", str(source)],
                          capture_output=True, text=True, timeout=INSTALL_TIMEOUT)
    assert done.returncode == 0, done.stderr[-3000:]
    return venv


def test_bare_install_has_no_extras(bare_venv: Path) -> None:
    python = str(bare_venv / "bin" / "python")
    for module in ("PIL", "escpos", "smartcard"):
        found = subprocess.run([python, "-c", f"import {module}"], capture_output=True)
        assert found.returncode != 0, f"{module} is installed without its extra"


async def test_bare_install_serves(bare_venv: Path, redis_url: str, redis: Redis,
                                   clean_tenant: str, tmp_path: Path) -> None:
    await Engine(redis, clean_tenant).configure(small_office())
    admin, _ = await Tokens(redis, clean_tenant).create("admin", ALL_OFFICES, "test")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            str(bare_venv / "bin" / "madoguchi"), "serve", "--port", str(port),
            cwd=str(tmp_path), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=out,
            env=child_env(redis_url, clean_tenant))
    try:
        assert proc.stdout is not None
        # It says when it listens (after binding): no polling needed.
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        assert line.decode().startswith(f"madoguchi: listening on {base}/"), log.read_text()
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{base}/readyz") as resp:
                assert resp.status == 200, await resp.text()
            for path in ("/", "/book/testoffice", "/login"):
                async with session.get(base + path) as resp:
                    assert resp.status == 200 and resp.content_type == "text/html", path
            async with session.post(f"{base}/api/v1/offices/testoffice/tickets",
                                    json={"service": "shomei"},
                                    headers={"Authorization": f"Bearer {admin}"}) as resp:
                assert resp.status == 201, await resp.text()
            async with session.get(f"{base}/api/v1/offices/testoffice/ticket-preview.png",
                                   headers={"Authorization": f"Bearer {admin}"}) as resp:
                assert resp.status == 503
                assert (await resp.json())["error"]["code"] == "printer_extra_missing"
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 15)
    assert "Traceback" not in log.read_text()


def pip_specs(target: str) -> list[str]:
    """The `pip install` arguments of `make <target>` on a fresh machine."""
    dry = subprocess.run(["make", "-n", "-B", target], cwd=REPO, capture_output=True,
                         text=True, check=True).stdout
    return re.findall(r"pip install --quiet -e '([^']+)'", dry)


def test_make_run_installs_no_source_builds(bare_venv: Path, source: Path,
                                            tmp_path: Path) -> None:
    run_specs, test_specs = pip_specs("run"), pip_specs("test")
    assert run_specs and all("dev" not in s and "cardreader" not in s for s in run_specs)
    assert ".[dev]" in test_specs
    for spec in run_specs:
        report = tmp_path / "report.json"
        done = subprocess.run(
            [str(bare_venv / "bin" / "pip"), "install", "--quiet", "--dry-run",
             "--ignore-installed", "--report", str(report), str(source) + spec.removeprefix(".")],
            capture_output=True, text=True, timeout=INSTALL_TIMEOUT)
        assert done.returncode == 0, done.stderr[-3000:]
        items = json.loads(report.read_text())["install"]
        names = {item["metadata"]["name"].lower() for item in items}
        assert "pyscard" not in names and "pillow" in names and "python-escpos" in names
        assert "websockets" in names  # the demo's kiosk agent connects out with it
        # Everything but the project itself and known pure-Python archives
        # comes as a wheel: nothing to compile (pyscard was the one).
        sdists = {re.sub(r"[-_.]+", "-", item["metadata"]["name"].lower()) for item in items
                  if item["metadata"]["name"] != "madoguchi"
                  and not item["download_info"]["url"].endswith(".whl")}
        assert sdists <= PURE_PYTHON_SDISTS
