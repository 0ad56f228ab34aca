"""The README's commands work as written: after `make run` the command is
`.venv/bin/madoguchi` (not on the PATH), every subcommand the README shows
exists, and the "API in one minute" block runs against a demo server."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from pathlib import Path

from tests.servers import REPO, ServerFactory, child_env, cli

README = (REPO / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```sh\n(.*?)```", README, flags=re.S)
VENV = Path(sys.executable).parent.parent


def shell_lines() -> list[str]:
    return [line for block in BLOCKS for line in block.splitlines()]


def test_every_madoguchi_command_says_where_it_is() -> None:
    bare = [line for line in shell_lines()
            if re.search(r"(^|\$\(|\s)madoguchi\s", line) and "pip install" not in line]
    assert bare == []
    assert sum(".venv/bin/madoguchi " in line for line in shell_lines()) >= 15


def test_every_subcommand_shown_exists() -> None:
    shown = set()
    for line in shell_lines():
        for m in re.finditer(r"\.venv/bin/madoguchi ((?:token|user) [a-z]+|[a-z-]+)", line):
            shown.add(m.group(1))
    assert {"run-demo", "demo", "serve", "token create", "user create", "demo-printer"} <= shown
    for command in sorted(shown):
        done = subprocess.run([str(VENV / "bin" / "madoguchi"), *command.split(), "--help"],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, (command, done.stderr)


async def test_api_in_one_minute_runs_as_written(
    redis_url: str, clean_tenant: str, servers: ServerFactory, tmp_path: Path
) -> None:
    loaded = await cli(redis_url, clean_tenant, "demo", "--always-open")
    assert loaded.returncode == 0, loaded.stderr
    server = await servers()
    block = next(b for b in BLOCKS if "token create --role kiosk --office kokurakita)" in b)
    # From a folder with the project's .venv, as after `make run`; only the
    # port differs (the test server's).
    (tmp_path / ".venv").symlink_to(VENV)
    script = block.replace("http://127.0.0.1:8080", server.base)
    proc = await asyncio.create_subprocess_exec(
        "bash", "-euo", "pipefail", "-c", script + "\necho\n", cwd=str(tmp_path),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env(redis_url, clean_tenant))
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()
    answers = [json.loads(line) for line in re.findall(r"\{.*?\}(?=\{|\n|$)", out.decode())]
    ticket, called, status = answers[0], answers[1], answers[-1]
    assert ticket["number"] == "A-001", ticket
    assert called.get("number") == "A-001" or called.get("ticket", {}).get("number") == "A-001"
    assert status["office"] == "kokurakita"
