"""The official registry's semantic checks on a server.json, written defensively.

Every check tolerates wrong types (the schema check reports those), so a malformed
document yields issues, never an exception.
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any
from urllib.parse import urlsplit

from mcp_index_common.validation.result import ERROR, SEMANTIC, Issue, path_of

MAX_META_BYTES = 4 * 1024
PUBLISHER_META_KEY = "io.modelcontextprotocol.registry/publisher-provided"

_NAMESPACE = r"[a-zA-Z0-9][a-zA-Z0-9.-]*[a-zA-Z0-9]"
_NAME_PART = r"[a-zA-Z0-9][a-zA-Z0-9._-]*[a-zA-Z0-9]"
_SERVER_NAME = re.compile(rf"^{_NAMESPACE}/{_NAME_PART}$")

_NUM = r"v?\d+(?:\.\d+){0,3}(?:-[0-9A-Za-z.-]+)?"
_COMPARATOR_RANGE = re.compile(rf"^\s*(?:\^|~|>=|<=|>|<|=)\s*{_NUM}\s*$")
_HYPHEN_RANGE = re.compile(rf"^\s*{_NUM}\s-\s*{_NUM}\s*$")
_OR_RANGE = re.compile(rf"^\s*(?:{_NUM}\s*)(?:\|\|\s*{_NUM}\s*)+$")
_WILDCARD = re.compile(r"^\s*(?:v?\d+|x|X|\*)(?:\.(?:\d+|x|X|\*)){1,2}(?:-[0-9A-Za-z.-]+)?\s*$")
_TEMPLATE_VAR = re.compile(r"\{([^}]+)\}")
_GITHUB_REPO = re.compile(r"^https?://(www\.)?github\.com/[\w.-]+/[\w.-]+/?$")
_GITLAB_REPO = re.compile(r"^https?://(www\.)?gitlab\.com/[\w.-]+/[\w.-]+/?$")
_SUBFOLDER = re.compile(r"^[a-zA-Z0-9\-_./]+$")

# Which package types carry a registry version, and which may name a registry base URL.
VERSION_REQUIRED = {"npm", "pypi", "nuget", "cargo"}
VERSION_FORBIDDEN = {"oci"}
BASE_URL_ALLOWED = {"npm", "pypi", "nuget", "cargo"}
REMOTE_TRANSPORTS = {"streamable-http", "sse"}
PACKAGE_TRANSPORTS = {"stdio", "streamable-http", "sse"}


def _issue(parts: list[str | int], message: str, reference: str) -> Issue:
    return Issue(SEMANTIC, path_of(parts), message, ERROR, reference)


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def looks_like_range(version: str) -> bool:
    """True for `^1.2`, `>=1`, `1.x`, `1.2.*`, `1 - 2`, `1 || 2` and the like."""
    text = version.strip()
    if not text:
        return False
    if _COMPARATOR_RANGE.match(text) or _HYPHEN_RANGE.match(text) or _OR_RANGE.match(text):
        return True
    return bool(_WILDCARD.match(text)) and any(c in text for c in "xX*")


def check_version(parts: list[str | int], version: Any) -> list[Issue]:
    """A concrete version: never `latest`, never a range."""
    text = _str(version)
    if text == "latest":
        return [_issue(parts, "version string 'latest' is reserved and cannot be used",
                       "reserved-version-string")]
    if looks_like_range(text):
        return [_issue(parts, f"version must be a specific version, not a range: {text!r}",
                       "version-looks-like-range")]
    return []


def check_name(name: Any) -> list[Issue]:
    """Reverse-DNS namespace, exactly one slash, alphanumeric at both ends of each side."""
    text = _str(name)
    if text.count("/") > 1:
        return [_issue(["name"], "server name cannot contain multiple slashes",
                       "invalid-server-name")]
    if not _SERVER_NAME.match(text):
        return [_issue(["name"], f"server name format is invalid: {text!r} "
                       "(expected 'namespace/name', e.g. 'io.github.user/weather')",
                       "invalid-server-name")]
    return []


def _https_url_issues(parts: list[str | int], url: str, what: str, ref: str) -> list[Issue]:
    try:
        parsed = urlsplit(url)
    except ValueError:
        return [_issue(parts, f"{what} is not a valid URL: {url}", f"{ref}-invalid-url")]
    issues = []
    if parsed.scheme != "https" or not parsed.netloc:
        issues.append(_issue(parts, f"{what} must be an absolute https URL: {url}",
                             f"{ref}-invalid-scheme"))
    bad = next((c for c in url if c in "\"'<> \t\r\n"), None)
    if bad is not None:
        issues.append(_issue(parts, f"{what} contains an invalid character {bad!r}: {url}",
                             f"{ref}-invalid-characters"))
    return issues


def _fill_template(url: str) -> str:
    """Replace `{vars}` with harmless stand-ins so the URL can be parsed."""
    url = re.sub(r":\{[^}]+\}(/|$)", r":8080\1", url)
    return _TEMPLATE_VAR.sub("placeholder", url)


def _templated_url_issues(
    parts: list[str | int], url: str, declared: set[str], *, remote: bool
) -> list[Issue]:
    issues = []
    try:
        parsed = urlsplit(_fill_template(url))
        host = parsed.hostname or ""
    except ValueError:
        return [_issue(parts, f"invalid URL: {url}", "invalid-url")]
    if parsed.scheme not in ("http", "https") or not host:
        starts_with_var = url.startswith("{") and not remote
        if not starts_with_var:
            issues.append(_issue(parts, f"invalid URL: {url}", "invalid-url"))
    if remote and not issues:
        if parsed.scheme != "https":
            issues.append(_issue(parts, f"remote URL must use https: {url}", "invalid-remote-url"))
        if host == "localhost" or host.endswith(".localhost"):
            issues.append(_issue(parts, f"remote URL must not point at localhost: {url}",
                                 "invalid-remote-url"))
        else:
            try:
                ipaddress.ip_address(host.strip("[]"))
            except ValueError:
                pass
            else:
                issues.append(_issue(parts, f"remote URL must use a host name, not an IP "
                                     f"address: {url}", "invalid-remote-url"))
    undefined = [v for v in _TEMPLATE_VAR.findall(url) if v not in declared]
    if undefined:
        issues.append(_issue(
            parts,
            f"template variables {sorted(set(undefined))} in URL {url} are not declared; "
            f"available variables: {sorted(declared)}",
            "invalid-templated-url",
        ))
    return issues


def _argument_issues(parts: list[str | int], arg: dict[str, Any]) -> list[Issue]:
    if arg.get("type") != "named":
        return []
    name = _str(arg.get("name"))
    if not name:
        return [_issue([*parts, "name"], "named argument name is required",
                       "named-argument-name-required")]
    issues = []
    if any(c in name for c in "<> $"):
        issues.append(_issue([*parts, "name"], f"invalid named argument name format: {name}",
                             "invalid-named-argument-name"))
    for key in ("value", "default"):
        value = _str(arg.get(key))
        if value and value.startswith(name):
            issues.append(_issue([*parts, key],
                                 f"argument {key} cannot start with the argument name "
                                 f"'{name}': {value}", f"argument-{key}-starts-with-name"))
    return issues


def _package_variables(pkg: dict[str, Any]) -> set[str]:
    names = {_str(e.get("name")) for e in map(_dict, _list(pkg.get("environmentVariables")))}
    for key in ("runtimeArguments", "packageArguments"):
        for arg in map(_dict, _list(pkg.get(key))):
            names.update({_str(arg.get("name")), _str(arg.get("valueHint"))})
    names.discard("")
    return names


def check_package(index: int, pkg: dict[str, Any]) -> list[Issue]:
    """Identifier, version, per-type rules, arguments and transport of one package."""
    base: list[str | int] = ["packages", index]
    issues: list[Issue] = []
    rtype = _str(pkg.get("registryType"))
    if " " in _str(pkg.get("identifier")):
        issues.append(_issue([*base, "identifier"], "package name cannot contain spaces",
                             "package-name-has-spaces"))
    has_version = "version" in pkg and pkg.get("version") not in (None, "")
    if has_version:
        issues += check_version([*base, "version"], pkg.get("version"))
    if rtype in VERSION_REQUIRED and not has_version:
        issues.append(_issue([*base, "version"], f"version is required for {rtype} packages",
                             "package-version-required"))
    if rtype in VERSION_FORBIDDEN and has_version:
        issues.append(_issue([*base, "version"],
                             f"{rtype} packages must not set version; put the tag in identifier",
                             "package-version-forbidden"))
    if rtype == "mcpb" and not _str(pkg.get("fileSha256")):
        issues.append(_issue([*base, "fileSha256"], "fileSha256 is required for mcpb packages",
                             "package-filesha256-required"))
    if rtype and rtype != "mcpb" and "fileSha256" in pkg:
        issues.append(_issue([*base, "fileSha256"],
                             f"fileSha256 is only allowed for mcpb packages, not {rtype}",
                             "package-filesha256-forbidden"))
    if rtype and rtype not in BASE_URL_ALLOWED and pkg.get("registryBaseUrl"):
        issues.append(_issue([*base, "registryBaseUrl"],
                             f"registryBaseUrl is not allowed for {rtype} packages",
                             "package-registry-base-url-forbidden"))
    for key in ("runtimeArguments", "packageArguments"):
        for i, arg in enumerate(_list(pkg.get(key))):
            issues += _argument_issues([*base, key, i], _dict(arg))
    transport = _dict(pkg.get("transport"))
    ttype = _str(transport.get("type"))
    url = _str(transport.get("url"))
    tparts: list[str | int] = [*base, "transport"]
    if ttype == "stdio":
        if url:
            issues.append(_issue([*tparts, "url"],
                                 f"url must be empty for stdio transport, got: {url}",
                                 "stdio-transport-url-not-empty"))
    elif ttype in ("streamable-http", "sse"):
        if not url:
            issues.append(_issue([*tparts, "url"], f"url is required for {ttype} transport",
                                 "streamable-transport-url-required"))
        else:
            issues += _templated_url_issues([*tparts, "url"], url, _package_variables(pkg),
                                            remote=False)
    elif ttype:
        issues.append(_issue([*tparts, "type"], f"unsupported transport type: {ttype}",
                             "unsupported-transport-type"))
    return issues


def check_remote(index: int, remote: dict[str, Any]) -> list[Issue]:
    """A remote: streamable-http or sse, https, a real host name, declared variables."""
    parts: list[str | int] = ["remotes", index]
    rtype = _str(remote.get("type"))
    if rtype not in REMOTE_TRANSPORTS:
        return [_issue([*parts, "type"], f"unsupported transport type for remotes: {rtype} "
                       "(only streamable-http and sse are supported)",
                       "unsupported-remote-transport-type")]
    url = _str(remote.get("url"))
    if not url:
        return [_issue([*parts, "url"], f"url is required for {rtype} transport",
                       "remote-transport-url-required")]
    declared = {k for k in _dict(remote.get("variables")) if k}
    return _templated_url_issues([*parts, "url"], url, declared, remote=True)


def meta_size(document: dict[str, Any]) -> int:
    """Size in bytes of the publisher-provided `_meta` (compact JSON)."""
    meta = document.get("_meta")
    if meta is None:
        return 0
    return len(json.dumps(meta, separators=(",", ":"), ensure_ascii=False).encode())


def check_semantics(document: dict[str, Any]) -> list[Issue]:
    """All semantic issues of a server.json document."""
    issues = check_name(document.get("name"))
    issues += check_version(["version"], document.get("version"))
    repo = _dict(document.get("repository"))
    if _str(repo.get("url")) or _str(repo.get("source")):
        source, url = _str(repo.get("source")), _str(repo.get("url"))
        pattern = {"github": _GITHUB_REPO, "gitlab": _GITLAB_REPO}.get(source)
        if pattern is not None and not pattern.match(url):
            issues.append(_issue(["repository", "url"], f"invalid repository URL: {url}",
                                 "invalid-repository-url"))
        sub = _str(repo.get("subfolder"))
        if sub and (sub.startswith("/") or sub.endswith("/") or not _SUBFOLDER.match(sub)
                    or any(s in ("", ".", "..") for s in sub.split("/"))):
            issues.append(_issue(["repository", "subfolder"], f"invalid subfolder path: {sub}",
                                 "invalid-subfolder-path"))
    website = _str(document.get("websiteUrl"))
    if website:
        issues += _https_url_issues(["websiteUrl"], website, "websiteUrl", "website-url")
    title = document.get("title")
    if isinstance(title, str) and title and not title.strip():
        issues.append(_issue(["title"], "title cannot be only whitespace", "title-whitespace-only"))
    for i, icon in enumerate(_list(document.get("icons"))):
        src = _str(_dict(icon).get("src"))
        if src:
            issues += _https_url_issues(["icons", i, "src"], src, "icon src", "icon-src")
    for i, pkg in enumerate(_list(document.get("packages"))):
        issues += check_package(i, _dict(pkg))
    for i, remote in enumerate(_list(document.get("remotes"))):
        issues += check_remote(i, _dict(remote))
    size = meta_size(document)
    if size > MAX_META_BYTES:
        issues.append(_issue(["_meta"], f"_meta exceeds the 4KB limit ({size} bytes)",
                             "meta-too-large"))
    return issues
