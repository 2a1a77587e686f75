"""An SDK-only install (``pip install centauro-sms``) and the server commands (issue 8, item 12).

A real virtualenv holding only the base dependencies (linked from this environment's own
copies: offline and quick) and this source tree: no SQLAlchemy, Alembic or FastAPI in it.
"""

from __future__ import annotations

import importlib.metadata as md
import os
import subprocess
import venv
from pathlib import Path

import pytest
from packaging.requirements import Requirement

SRC = Path(__file__).resolve().parents[2] / "src"
INSTALL_HINT = 'pip install "centauro-sms[server]"'


def _base_closure() -> list[md.Distribution]:
    """The distributions ``pip install centauro-sms`` brings: its requirements, no extras."""
    seen: dict[str, md.Distribution] = {}
    todo = [r for r in md.requires("centauro-sms") or [] if _needed(r)]
    while todo:
        name = Requirement(todo.pop()).name.lower()
        if name in seen:
            continue
        dist = md.distribution(name)
        seen[name] = dist
        todo += [r for r in dist.requires or [] if _needed(r)]
    return list(seen.values())


def _needed(requirement: str) -> bool:
    marker = Requirement(requirement).marker
    return marker is None or marker.evaluate({"extra": ""})


@pytest.fixture(scope="module")
def sdk_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sdk-only")
    venv.EnvBuilder(with_pip=False, symlinks=True).create(root / "venv")
    python = root / "venv" / "bin" / "python"
    site = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
    )  # fmt: skip
    linked: set[str] = set()
    for dist in _base_closure():
        for file in dist.files or []:
            top = file.parts[0]
            if top == ".." or top in linked or top.endswith(".pth"):
                continue
            source = Path(str(dist.locate_file(top)))
            if source.exists():
                (site / top).symlink_to(source)
                linked.add(top)
    (site / "centauro_src.pth").write_text(f"{SRC}\n")
    return python


def _run(python: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CENTAURO_", "PYTHON"))}
    return subprocess.run(
        [python, "-m", "centauro", *args],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_the_sdk_only_environment_really_lacks_the_server(sdk_python: Path) -> None:
    probe = subprocess.run(
        [sdk_python, "-c", "import centauro.client, httpx, typer, rich; import sqlalchemy"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert probe.returncode == 1
    assert "No module named 'sqlalchemy'" in probe.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("db", "upgrade"),
        ("serve",),
        ("accounts", "list"),
        ("connectors", "list"),
        ("routes", "list"),
        ("messages", "show", "1"),
        ("inbound", "list"),
        ("smsc-sim",),
    ],
)
def test_server_commands_say_what_to_install(
    sdk_python: Path, tmp_path: Path, args: tuple[str, ...]
) -> None:
    result = _run(sdk_python, *args, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "necesita el servidor" in result.stderr
    assert INSTALL_HINT in result.stderr  # on one line: copyable
    assert not (tmp_path / "centauro.sqlite3").exists()


def test_help_and_client_commands_still_work_without_the_server(
    sdk_python: Path, tmp_path: Path
) -> None:
    assert _run(sdk_python, "--help", cwd=tmp_path).returncode == 0
    db_help = _run(sdk_python, "db", "--help", cwd=tmp_path)
    assert db_help.returncode == 0
    assert "upgrade" in db_help.stdout
    balance = _run(sdk_python, "balance", cwd=tmp_path)  # no CENTAURO_URL: a config error
    assert balance.returncode == 2
    assert "CENTAURO_URL" in balance.stderr
    assert "necesita el servidor" not in balance.stderr
