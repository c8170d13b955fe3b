"""What a search document says of a server version: its fields, facets and content hash.

Pure functions of the manifest (no database): the services store the result, the ranking
reads it. Fields are (text, weight) pairs for the lexical leg; `embed_text` is what the
semantic leg embeds. Overlay tags and notes of a catalog are added per catalog when its
index is built (they are the catalog's, not the version's); tool names and descriptions
come through `register_tool_text` (the tool inventory registers a provider).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

# Weights of the fields in BM25 (a term in the name counts three times one in a description).
NAME_WEIGHT = 3.0
TITLE_WEIGHT = 2.0
DESCRIPTION_WEIGHT = 1.0
PACKAGE_WEIGHT = 2.0
HOST_WEIGHT = 1.0
REPOSITORY_WEIGHT = 1.0
TAG_WEIGHT = 2.0
NOTES_WEIGHT = 1.0
TOOL_WEIGHT = 1.0
_GENERIC_HOSTS = {"github.com", "gitlab.com", "www.npmjs.com", "pypi.org", "docker.io", "ghcr.io"}


@dataclass(frozen=True)
class Document:
    """A version's search document (what discovery.models.SearchDocument stores)."""

    name: str
    title: str
    description: str
    packages: str  # package identifiers and their registry types, space separated
    hosts: str  # remote hosts
    repository: str  # the repository's owner/name words
    tools: str  # tool names and descriptions, once an inventory provides them
    keys: list[str]  # exact-match keys: the name, its last part, package identifiers
    registry_types: list[str]
    transports: list[str]
    has_remote: bool
    has_package: bool
    namespace: str

    def fields(self) -> list[tuple[str, float]]:
        """(text, weight) for BM25."""
        return [(name_words(self.name), NAME_WEIGHT), (self.title, TITLE_WEIGHT),
                (self.description, DESCRIPTION_WEIGHT), (self.packages, PACKAGE_WEIGHT),
                (self.hosts, HOST_WEIGHT), (self.repository, REPOSITORY_WEIGHT),
                (self.tools, TOOL_WEIGHT)]

    def embed_text(self) -> str:
        """What the semantic leg embeds: who it is and what it says it does."""
        head = self.title or name_words(self.name.split("/")[-1])
        parts = [head, self.description, self.tools[:500]]
        return ". ".join(p for p in parts if p)

    def embed_hash(self) -> str:
        """sha256 of embed_text: the key of its embedding."""
        return hashlib.sha256(self.embed_text().encode("utf-8", "surrogatepass")).hexdigest()

    def content_hash(self) -> str:
        """sha256 of everything the document says: unchanged hash, nothing to redo."""
        payload = json.dumps([self.name, self.title, self.description, self.packages,
                              self.hosts, self.repository, self.tools], ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()


def name_words(name: str) -> str:
    """A server name as words: `io.github.acme/pg-tools` -> `io github acme pg tools pg-tools`."""
    namespace, _, short = name.partition("/")
    return " ".join([namespace.replace(".", " "), short.replace("-", " ").replace("_", " "),
                     short])


def _strings(values: Iterable[Any]) -> list[str]:
    return [v for v in values if isinstance(v, str) and v]


def _text(manifest: dict[str, Any], key: str) -> str:
    value = manifest.get(key)
    return value if isinstance(value, str) else ""


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


ToolText = Callable[[Iterable[int]], Mapping[int, str]]
_tool_text: list[ToolText] = []


def register_tool_text(provider: ToolText) -> None:
    """Let the tool inventory add its tool names and descriptions: version ids -> text."""
    if provider not in _tool_text:
        _tool_text.append(provider)


def tool_texts(version_ids: Iterable[int]) -> dict[int, str]:
    """Tool text per version id from every registered provider (none registered: empty)."""
    ids = list(version_ids)
    out: dict[int, str] = {}
    for provider in _tool_text:
        for vid, text in provider(ids).items():
            out[vid] = f"{out.get(vid, '')} {text}".strip()
    return out


def document_of(manifest: dict[str, Any], *, tools: str = "") -> Document:
    """The search document of one manifest (as published, possibly not schema-valid)."""
    name = _text(manifest, "name")
    packages = _dicts(manifest.get("packages"))
    remotes = _dicts(manifest.get("remotes"))
    identifiers = _strings(p.get("identifier") for p in packages)
    registry_types = sorted(set(_strings(p.get("registryType") for p in packages)))
    transports = {t.get("type") for t in (p.get("transport") for p in packages)
                  if isinstance(t, dict)}
    transports |= {r.get("type") for r in remotes}
    hosts = []
    for url in _strings(r.get("url") for r in remotes):
        host = (urlsplit(url).hostname or "") if "://" in url else ""
        if host and host not in hosts:
            hosts.append(host)
    repository = manifest.get("repository")
    repo_url = repository.get("url") if isinstance(repository, dict) else None
    repo_words = ""
    if isinstance(repo_url, str) and "://" in repo_url:
        repo_words = urlsplit(repo_url).path.strip("/").replace("/", " ")
    short = name.split("/")[-1]
    keys = {k.lower() for k in [name, short, *identifiers] if k}
    keys |= {i.split("/")[-1].lower() for i in identifiers if "/" in i}
    return Document(
        name=name, title=_text(manifest, "title"), description=_text(manifest, "description"),
        packages=" ".join(identifiers + registry_types),
        hosts=" ".join(h.replace(".", " ") for h in hosts if h not in _GENERIC_HOSTS),
        repository=repo_words, tools=tools, keys=sorted(keys), registry_types=registry_types,
        transports=sorted(t for t in transports if isinstance(t, str) and t),
        has_remote=bool(remotes), has_package=bool(packages),
        namespace=name.partition("/")[0])
