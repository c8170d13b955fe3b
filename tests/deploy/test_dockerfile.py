"""deploy/Dockerfile: two stages, a slim non-root runtime, and build steps that work."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import tomllib
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.deploy.conftest import DEPLOY, ROOT, app_env


@dataclass
class Stage:
    base: str
    name: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


def parse_dockerfile(path: Path) -> list[Stage]:
    """Stages with their instructions (continuations joined, comments dropped, ARGs applied
    to FROM lines)."""
    text = re.sub(r"\\\n", " ", "\n".join(
        line for line in path.read_text().splitlines() if not line.lstrip().startswith("#")))
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in filter(None, (raw.strip() for raw in text.splitlines())):
        keyword, _, rest = line.partition(" ")
        keyword, rest = keyword.upper(), " ".join(rest.split())
        if keyword == "ARG" and not stages:
            name, _, default = rest.partition("=")
            args[name] = default
        elif keyword == "FROM":
            image = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], rest)
            base, _, name = image.partition(" AS ")
            stages.append(Stage(base, name))
        else:
            stages[-1].instructions.append((keyword, rest))
    return stages


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return parse_dockerfile(DEPLOY / "Dockerfile")


def test_two_stages_on_slim_python(stages: list[Stage]) -> None:
    assert [(s.base, s.name) for s in stages] == [("python:3.11-slim", "builder"),
                                                  ("python:3.11-slim", "runtime")]


def test_runtime_stage_is_non_root_and_carries_no_build_tools(stages: list[Stage]) -> None:
    runtime = stages[-1]
    assert runtime.all("USER") == ["10001:10001"]
    runs = " ".join(runtime.all("RUN"))
    assert "--uid 10001" in runs and "--gid 10001" in runs
    assert "pip install" not in runs and "apt-get" not in runs
    # Only the virtualenv and the prepared application come from the builder.
    assert runtime.all("COPY") == ["--from=builder /opt/venv /opt/venv", "--from=builder /app /app"]
    # USER comes after every RUN: nothing runs as root once the image is started.
    keywords = [keyword for keyword, _ in runtime.instructions]
    assert keywords.index("USER") > max(i for i, k in enumerate(keywords) if k == "RUN")


def test_runtime_serves_gunicorn_with_a_health_check(stages: list[Stage]) -> None:
    runtime = stages[-1]
    assert runtime.all("EXPOSE") == ["8000"]
    assert json.loads(runtime.all("CMD")[0]) == [
        "gunicorn", "-c", "deploy/gunicorn.conf.py", "config.wsgi:application"]
    (healthcheck,) = runtime.all("HEALTHCHECK")
    options, _, command = healthcheck.partition(" CMD ")
    assert "--interval=" in options and "--timeout=" in options
    assert json.loads(command) == ["python", "deploy/healthcheck.py", "http://127.0.0.1:8000/healthz"]


def test_builder_copies_only_what_exists(stages: list[Stage]) -> None:
    copies = stages[0].all("COPY")
    assert copies, "the builder copies the source"
    for copy in copies:
        *sources, _target = copy.split()
        for source in sources:
            assert (ROOT / source).exists(), source
    copied = {Path(source).parts[0] for copy in copies for source in copy.split()[:-1]}
    # Every package pyproject ships is in the image.
    assert {"config", "ops", "registry", "curation", "signing", "serving", "mcp_index_common",
            "web"} <= copied


def test_dockerignore_keeps_secrets_and_local_state_out() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", ".git", ".venv", "db.sqlite3", "staticfiles"} <= set(ignored)


def builder_run(stages: list[Stage], marker: str) -> str:
    (command,) = [run for run in stages[0].all("RUN") if marker in run]
    return command


def test_dependency_step_installs_what_pyproject_declares(stages: list[Stage], tmp_path: Path) -> None:
    """Run the builder's requirements extraction; the result is what this venv satisfies."""
    command = builder_run(stages, "tomllib").split(" && ")[0]
    command = command.replace("/tmp/requirements.txt", shlex.quote(str(tmp_path / "req.txt")))
    subprocess.run(command, shell=True, cwd=ROOT, check=True, timeout=60,
                   env=app_env({}))
    listed = (tmp_path / "req.txt").read_text().split("\n")
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert [line for line in listed if line] == declared
    for line in declared:
        requirement = Requirement(line)
        assert requirement.specifier.contains(metadata.version(requirement.name), prereleases=True), line


def test_collectstatic_step_builds_the_manifest(collected_static: Path) -> None:
    manifest = json.loads((collected_static / "staticfiles.json").read_text())
    hashed = manifest["paths"]["css/web.css"]
    assert hashed != "css/web.css" and (collected_static / hashed).is_file()
    assert (collected_static / (hashed + ".gz")).is_file()
