"""`make run` (DEBUG) instances make their own secrets on first run and keep them in a
git-ignored local file; nothing is derived from a constant anyone can read in the source."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from config.env import local_secret

ROOT = Path(__file__).resolve().parents[2]
WHOAMI = "/v0.1/x/io.mcpindex/whoami"
# What every `make run` instance used to sign with: derived from the dev SECRET_KEY constant.
OLD_DEV_SEED = hashlib.sha256(b"jwt:insecure-dev-key-do-not-use-in-production").hexdigest()

# Boots the app with the given environment and calls the API with each token given.
PROBE = (
    "import json, sys, django; django.setup()\n"
    "from django.test import Client\n"
    "client = Client(HTTP_HOST='127.0.0.1')\n"
    f"codes = [client.get({WHOAMI!r}, HTTP_AUTHORIZATION='Bearer ' + t).status_code"
    " for t in sys.argv[1:]]\n"
    "print(json.dumps(codes))\n"
)


def dev_env(secrets_file: Path | None, **extra: str) -> dict[str, str]:
    """`make run`'s environment: DEBUG on, no secrets exported."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "MCP_INDEX_", "DATABASE_URL", "REDIS_URL"))}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", DJANGO_DEBUG="1",
               DATABASE_URL=f"sqlite:///{secrets_file.parent if secrets_file else ROOT}/unused.db")
    if secrets_file is not None:
        env["MCP_INDEX_LOCAL_SECRETS_FILE"] = str(secrets_file)
    env.update(extra)
    return env


def call_api(env: dict[str, str], *tokens: str) -> list[int]:
    result = subprocess.run([sys.executable, "-c", PROBE, *tokens], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def admin_token(seed_hex: str) -> str:
    """A registry JWT granting publish and edit on everything, signed with `seed_hex`."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": "mcp-index", "iat": now, "nbf": now, "exp": now + 300,
        "auth_method": "oidc", "auth_method_sub": "mallory",
        "permissions": [{"action": "publish", "resource": "*"}, {"action": "edit", "resource": "*"}],
    }
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed_hex))
    return jwt.encode(claims, key, algorithm="EdDSA")


def test_each_dev_instance_makes_and_keeps_its_own_secrets(tmp_path):
    first, second = tmp_path / "a" / "secrets.json", tmp_path / "b" / "secrets.json"
    forged = admin_token(OLD_DEV_SEED)
    assert call_api(dev_env(first), forged) == [401]  # the constant seed mints nothing
    assert call_api(dev_env(second), forged) == [401]
    kept = [json.loads(path.read_text()) for path in (first, second)]
    for secrets_file, values in zip((first, second), kept, strict=True):
        assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
        assert stat.S_IMODE(secrets_file.parent.stat().st_mode) == 0o700
        assert set(values) == {"DJANGO_SECRET_KEY", "MCP_INDEX_JWT_PRIVATE_KEY"}
        assert len(bytes.fromhex(values["MCP_INDEX_JWT_PRIVATE_KEY"])) == 32
        assert len(values["DJANGO_SECRET_KEY"]) >= 50
        assert values["DJANGO_SECRET_KEY"] != "insecure-dev-key-do-not-use-in-production"
    for name in ("DJANGO_SECRET_KEY", "MCP_INDEX_JWT_PRIVATE_KEY"):
        assert kept[0][name] != kept[1][name]
    own = admin_token(kept[0]["MCP_INDEX_JWT_PRIVATE_KEY"])
    # A restart of the first instance keeps its keys (its tokens stay valid); the second
    # instance does not accept them.
    assert call_api(dev_env(first), own, forged) == [200, 401]
    assert json.loads(first.read_text()) == kept[0]
    assert call_api(dev_env(second), own) == [401]


def test_processes_starting_together_agree_on_one_key(tmp_path):
    """`make run` starts several gunicorn workers at once: they must not each make a key.
    (Threads stand in for them: each opens the file itself, as a process would.)"""
    secrets_file = tmp_path / "fresh" / "secrets.json"
    made = iter(range(100))

    def slow_generate() -> str:
        value = f"key-{next(made)}"
        time.sleep(0.2)  # long enough for every other starter to arrive meanwhile
        return value

    with ThreadPoolExecutor(max_workers=4) as pool:
        seen = set(pool.map(lambda _: local_secret(secrets_file, "K", slow_generate), range(4)))
    assert seen == {json.loads(secrets_file.read_text())["K"]}


def test_exported_secrets_win_and_no_file_is_written(tmp_path):
    secrets_file = tmp_path / "secrets.json"
    seed = "ab" * 32
    env = dev_env(secrets_file, DJANGO_SECRET_KEY="exported", MCP_INDEX_JWT_PRIVATE_KEY=seed)
    assert call_api(env, admin_token(seed)) == [200]
    assert not secrets_file.exists()


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "MCP_INDEX_JWT_PRIVATE_KEY"])
def test_production_still_requires_the_environment(tmp_path, missing):
    secrets_file = tmp_path / "secrets.json"
    env = dev_env(secrets_file, DJANGO_DEBUG="0", DJANGO_SECRET_KEY="x" * 50,
                  MCP_INDEX_JWT_PRIVATE_KEY="cd" * 32)
    del env[missing]
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert missing in result.stderr
    env[missing] = ""  # set but empty is missing too, not a blank secret
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert missing in result.stderr
    assert not secrets_file.exists()


def test_the_default_secrets_file_is_kept_out_of_git_and_images():
    default = ROOT / ".local" / "secrets.json"
    ignored = subprocess.run(["git", "check-ignore", "-q", str(default)], cwd=ROOT)
    assert ignored.returncode == 0, ".local/ must be git-ignored"
    dockerignore = (ROOT / ".dockerignore").read_text().splitlines()
    assert ".local" in dockerignore
