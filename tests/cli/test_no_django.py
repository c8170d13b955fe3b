"""The CLI is a plain HTTP client: importing it must pull in neither Django nor an app package.

The same holds for mcp_index_common, the Django-free code the CLI shares with the server.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

FORBIDDEN = ("django", "rest_framework", "config", "registry", "signing", "curation", "ops",
             "serving", "web", "discovery")

# Build the full parser, so every command module found through the entry points is imported.
CLI = """
import mcp_index_cli.main
mcp_index_cli.main.build_parser()
"""

COMMON = """
import mcp_index_common.dsse, mcp_index_common.policy, mcp_index_common.sigstore_verify
import mcp_index_common.statements, mcp_index_common.validation, mcp_index_common.verification
"""

REPORT = f"""
import sys
loaded = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})
print(','.join(loaded) or 'none')
"""


def _loaded_after(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code + REPORT], capture_output=True, text=True,
                          check=True, env={"PATH": "/usr/bin:/bin"})
    return done.stdout.strip()


@pytest.mark.parametrize("code", [CLI, COMMON], ids=["mcp_index_cli", "mcp_index_common"])
def test_importing_imports_neither_django_nor_an_app(code):
    assert _loaded_after(code) == "none"


COMMAND_MODULES = """
import sys
import mcp_index_cli.main as main
def commands():
    return ','.join(sorted(n for n in sys.modules if n.startswith('mcp_index_cli.commands.')))
print(commands() or 'none')
main.build_parser()
print(commands())
"""


def test_main_imports_no_command_module_and_finds_them_all_through_entry_points():
    done = subprocess.run([sys.executable, "-c", COMMAND_MODULES], capture_output=True, text=True,
                          check=True, env={"PATH": "/usr/bin:/bin"})
    before, after = done.stdout.split()
    assert before == "none"
    assert after.split(",") == [f"mcp_index_cli.commands.{name}"
                                for name in ("publishing", "session", "setup", "signing", "tokens",
                                             "trust")]


def test_console_script_runs_without_django_settings():
    done = subprocess.run([sys.executable, "-m", "mcp_index_cli.main", "--version"],
                          capture_output=True, text=True, check=False,
                          env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("mcp-index ")
