"""The CLI is a plain HTTP client: importing it must not pull in Django."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
import registry.cli.main
from registry.cli.commands import publishing, session, setup, tokens
loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'rest_framework'))
print(','.join(loaded) or 'none')
"""


def test_importing_the_cli_does_not_import_django():
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True,
                          check=True, env={"PATH": "/usr/bin:/bin"})
    assert done.stdout.strip() == "none"


def test_console_script_runs_without_django_settings():
    done = subprocess.run([sys.executable, "-m", "registry.cli.main", "--version"],
                          capture_output=True, text=True, check=False,
                          env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("mcp-index ")
