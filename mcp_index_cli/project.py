"""Read the current project (package.json, pyproject.toml, git remote) to draft a server.json."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mcp_index_cli.errors import CliError
from mcp_index_common.validation import CURRENT_SCHEMA_URL

DESCRIPTION_MAX = 100
_FORGES = {"github.com": "github", "gitlab.com": "gitlab", "bitbucket.org": "bitbucket"}
_NAME_UNSAFE = re.compile(r"[^a-zA-Z0-9._-]+")
_SCP_LIKE = re.compile(r"^(?:[^@/]+@)?(?P<host>[^:/]+):(?P<path>[^/].*)$")
_URL_KEYS = ("repository", "source", "source code", "code", "github", "homepage")


@dataclass(frozen=True)
class Project:
    """What the package metadata in a directory says about the server."""

    registry_type: str | None  # "npm", "pypi", or None when no package metadata was found
    package: str | None
    version: str | None
    description: str | None
    mcp_name: str | None
    repository_url: str | None


@dataclass(frozen=True)
class Repository:
    """A browsable repository URL, its forge and the path of the project inside it."""

    url: str
    source: str
    subfolder: str | None = None

    @property
    def owner(self) -> str | None:
        """The first path segment (the GitHub user or organisation)."""
        parts = urlsplit(self.url).path.strip("/").split("/")
        return parts[0] if parts and parts[0] else None

    @property
    def name(self) -> str | None:
        """The last path segment (the repository name)."""
        parts = urlsplit(self.url).path.strip("/").split("/")
        return parts[-1] if len(parts) >= 2 else None


@dataclass(frozen=True)
class Draft:
    """A drafted server.json plus the things the author still has to check."""

    manifest: dict[str, Any]
    source: str
    notes: tuple[str, ...] = field(default_factory=tuple)


def normalize_repo_url(raw: str) -> str | None:
    """Turn git remotes and package.json shorthands into `https://host/owner/repo`."""
    url = raw.strip()
    if not url:
        return None
    if url.startswith(("github:", "gitlab:", "bitbucket:")):
        forge, _, path = url.partition(":")
        host = {"github": "github.com", "gitlab": "gitlab.com", "bitbucket": "bitbucket.org"}
        url = f"https://{host[forge]}/{path}"
    elif re.fullmatch(r"[\w.-]+/[\w.-]+", url):
        url = f"https://github.com/{url}"
    url = url.removeprefix("git+")
    scp = _SCP_LIKE.match(url)
    if scp and "://" not in url:
        url = f"https://{scp.group('host')}/{scp.group('path')}"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https", "ssh", "git") or not parts.hostname:
        return None
    path = parts.path.rstrip("/").removesuffix(".git")
    if not path.strip("/"):
        return None
    # Never keep credentials a CI checkout may have embedded in the remote URL.
    return f"https://{parts.hostname}{path}"


def repository_for(url: str, subfolder: str | None = None) -> Repository:
    """A Repository for a normalized URL, naming the forge from its host."""
    host = urlsplit(url).hostname or ""
    return Repository(url=url, source=_FORGES.get(host, host), subfolder=subfolder or None)


def _git(directory: Path, *args: str) -> str | None:
    git = shutil.which("git")
    if git is None:
        return None
    try:
        # Fixed argv (no shell), run in the user's own project directory.
        done = subprocess.run(  # noqa: S603
            [git, "-C", str(directory), *args],
            capture_output=True, text=True, timeout=10, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_repository(directory: Path) -> Repository | None:
    """The repository of the `origin` remote (else the first remote), with the subfolder."""
    remote = _git(directory, "remote", "get-url", "origin")
    if not remote:
        names = (_git(directory, "remote") or "").split()
        remote = _git(directory, "remote", "get-url", names[0]) if names else None
    url = normalize_repo_url(remote) if remote else None
    if url is None:
        return None
    prefix = (_git(directory, "rev-parse", "--show-prefix") or "").strip("/")
    return repository_for(url, prefix or None)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot read {path.name}: {exc}") from exc
    if not isinstance(data, dict):
        raise CliError(f"{path.name} is not a JSON object")
    return data


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def from_package_json(path: Path) -> Project:
    """name, version, description, mcpName and repository from an npm package.json."""
    data = _read_json(path)
    repo = data.get("repository")
    repo_url = repo.get("url") if isinstance(repo, dict) else repo
    return Project(
        registry_type="npm",
        package=_text(data.get("name")),
        version=_text(data.get("version")),
        description=_text(data.get("description")),
        mcp_name=_text(data.get("mcpName")),
        repository_url=normalize_repo_url(repo_url) if isinstance(repo_url, str) else None,
    )


def from_pyproject(path: Path) -> Project:
    """[project] name, version, description and urls from a pyproject.toml."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CliError(f"cannot read {path.name}: {exc}") from exc
    project = data.get("project")
    if not isinstance(project, dict):
        raise CliError(f"{path.name} has no [project] table")
    urls = project.get("urls")
    if not isinstance(urls, dict):
        urls = {}
    by_key = {str(k).lower(): v for k, v in urls.items() if isinstance(v, str)}
    repo_url = None
    for key in _URL_KEYS:
        candidate = normalize_repo_url(by_key[key]) if key in by_key else None
        host = urlsplit(candidate).hostname if candidate else None
        if candidate and (key != "homepage" or host in _FORGES):
            repo_url = candidate
            break
    return Project(
        registry_type="pypi",
        package=_text(project.get("name")),
        version=_text(project.get("version")),
        description=_text(project.get("description")),
        mcp_name=None,
        repository_url=repo_url,
    )


def detect_project(directory: Path) -> tuple[Project, str]:
    """Package metadata from package.json (preferred) or pyproject.toml, and its file name."""
    for filename, reader in (("package.json", from_package_json),
                             ("pyproject.toml", from_pyproject)):
        path = directory / filename
        if path.is_file():
            return reader(path), filename
    return Project(None, None, None, None, None, None), ""


def _short_name(value: str) -> str:
    short = value.rsplit("/", 1)[-1]
    return _NAME_UNSAFE.sub("-", short).strip("-.") or "server"


def draft_manifest(directory: Path, *, name: str | None = None) -> Draft:
    """Build a server.json for `directory`, listing what the author must still edit."""
    project, source = detect_project(directory)
    notes: list[str] = []
    repo = git_repository(directory)
    if repo is None and project.repository_url:
        repo = repository_for(project.repository_url)
    short = _short_name(project.package or (repo.name if repo else None) or directory.name)

    server_name = name or project.mcp_name
    if server_name is None:
        if repo is not None and repo.source == "github" and repo.owner:
            server_name = f"io.github.{repo.owner}/{short}"
        else:
            server_name = f"com.example/{short}"
            notes.append(f"set \"name\" (now {server_name}) to a namespace you can prove: "
                         "io.github.<user>/..., or your reversed domain")
    if project.registry_type == "npm" and project.mcp_name != server_name:
        notes.append(f"add \"mcpName\": \"{server_name}\" to package.json and republish "
                     "the package: the registry checks it")
    if project.registry_type == "pypi":
        notes.append(f"put the line `mcp-name: {server_name}` in your README (the PyPI "
                     "project description): the registry checks it")

    version = project.version
    if version is None:
        version = "0.1.0"
        if project.registry_type:
            notes.append(f"{source} has no static version; set \"version\" (now 0.1.0)")
    description = project.description or f"MCP server {short}"
    if project.description is None:
        notes.append(f"write a real \"description\" (now {description!r})")
    if len(description) > DESCRIPTION_MAX:
        description = description[: DESCRIPTION_MAX - 1].rstrip() + "…"
        notes.append(f"\"description\" was shortened to {DESCRIPTION_MAX} characters")

    manifest: dict[str, Any] = {
        "$schema": CURRENT_SCHEMA_URL,
        "name": server_name,
        "description": description,
        "version": version,
    }
    if repo is not None:
        manifest["repository"] = {"url": repo.url, "source": repo.source}
        if repo.subfolder:
            manifest["repository"]["subfolder"] = repo.subfolder
    if project.registry_type and project.package:
        manifest["packages"] = [{
            "registryType": project.registry_type,
            "identifier": project.package,
            "version": version,
            "transport": {"type": "stdio"},
        }]
    else:
        notes.append("no package.json or pyproject.toml found: add \"packages\" or "
                     "\"remotes\" by hand")
    return Draft(manifest=manifest, source=source or "defaults", notes=tuple(notes))
