"""What a publisher says about its server, for the server page: GitHub facts and themed icons.

`server._meta["io.modelcontextprotocol.registry/publisher-provided"]` is free-form; VS Code's
gallery reads its `github` object (stars, licence, owner avatar, topics), and `icons` may
name a `theme` (light or dark). All of it is untrusted manifest text: only https images,
bounded strings and plain integers get through.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

PUBLISHER_PROVIDED = "io.modelcontextprotocol.registry/publisher-provided"
_TEXT_MAX = 200
_TOPICS_MAX = 12


@dataclass(frozen=True)
class Icons:
    """The icon to show in a light and in a dark theme (the same one when only one fits)."""

    light: str
    dark: str


@dataclass(frozen=True)
class PublisherInfo:
    """Facts a publisher states about its repository (as VS Code's gallery shows them)."""

    repository: str  # owner/name
    display_name: str
    stars: int | None
    license: str
    language: str
    topics: tuple[str, ...]
    avatar: str

    @property
    def owner(self) -> str:
        return self.repository.split("/", 1)[0] if "/" in self.repository else ""


def https_url(value: Any) -> str:
    """`value` when it is an absolute https URL of sane length, else ""."""
    if not isinstance(value, str) or len(value) > 2000:
        return ""
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return ""
    return value.strip() if parts.scheme.lower() == "https" and parts.netloc else ""


def _text(value: Any) -> str:
    return value.strip()[:_TEXT_MAX] if isinstance(value, str) else ""


def themed_icons(manifest: dict[str, Any]) -> Icons | None:
    """The manifest's icons for each theme: `theme: light|dark` preferred, else the first."""
    icons = [i for i in manifest.get("icons") or [] if isinstance(i, dict)] \
        if isinstance(manifest.get("icons"), list) else []
    usable = [(i.get("theme"), https_url(i.get("src"))) for i in icons]
    usable = [(theme, src) for theme, src in usable if src]
    if not usable:
        return None
    light = next((src for theme, src in usable if theme == "light"), usable[0][1])
    dark = next((src for theme, src in usable if theme == "dark"), light)
    return Icons(light=light, dark=dark)


def publisher_info(manifest: dict[str, Any]) -> PublisherInfo | None:
    """The `github` facts under the publisher-provided `_meta`, or None when absent."""
    meta = manifest.get("_meta")
    provided = meta.get(PUBLISHER_PROVIDED) if isinstance(meta, dict) else None
    github = provided.get("github") if isinstance(provided, dict) else None
    if not isinstance(github, dict):
        return None
    stars = github.get("stargazer_count")
    topics = github.get("topics")
    info = PublisherInfo(
        repository=_text(github.get("name_with_owner")),
        display_name=_text(github.get("display_name")) or _text(github.get("name")),
        stars=stars if isinstance(stars, int) and not isinstance(stars, bool) and 0 <= stars < 10**9
        else None,
        license=_text(github.get("license")),
        language=_text(github.get("primary_language")),
        topics=tuple(_text(t) for t in topics[:_TOPICS_MAX] if _text(t))
        if isinstance(topics, list) else (),
        avatar=https_url(github.get("owner_avatar_url")))
    empty = PublisherInfo("", "", None, "", "", (), "")
    return None if info == empty else info
