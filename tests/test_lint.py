"""The code base passes the project's lint and format configuration (pyproject.toml)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _ruff() -> list:
    exe = Path(sys.executable).with_name('ruff')
    if exe.exists():
        return [str(exe)]
    if shutil.which('ruff'):
        return ['ruff']
    pytest.fail('ruff is not installed: run `make setup` (requirements/tests.txt)')


@pytest.mark.parametrize('command', [['check', '.'], ['format', '--check', '.']])
def test_ruff(command):
    result = subprocess.run(_ruff() + command, cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
