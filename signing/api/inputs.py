"""Parsing the bodies that create or change principals, trust roots and trust policies.

The API views and the `manage.py` commands both turn a JSON-shaped body into an unsaved
model (new, or the stored one with the changes applied) here, then call one service. Every
refusal is an `InvalidTrustConfig` (422) naming the field; nothing here writes. The field
names are those the GET endpoints return, so what a client reads it can send back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mcp_index_common.input import value_problem
from mcp_index_common.statements import REVIEW_V1, VERDICT_APPROVED
from signing.models import Principal, TrustPolicy, TrustRoot
from signing.services import InvalidTrustConfig

# Django's slug, within the models' max_length (the URL converter accepts longer ones).
SLUG = re.compile(r"[-a-zA-Z0-9_]{1,100}")
MAX_DEPTH = 16  # trusted_root.json nests six deep; nothing legitimate goes near this
MAX_NAME = 200  # display names and titles (the models' max_length)
MAX_IDENTITY = 500  # sigstore issuer and subject
MAX_PEM = 16 * 1024
MAX_TRUSTED_ROOT = 512 * 1024
MAX_POLICY_PRINCIPALS = 256
MAX_PREDICATE_TYPES, MAX_PREDICATE_TYPE = 32, 500
MAX_VERDICTS, MAX_VERDICT = 16, 50
MAX_TIME = 64

PRINCIPAL_FIELDS = ("id", "displayName", "kind", "publicKey", "sigstore", "expiresAt")
SIGSTORE_FIELDS = ("issuer", "subject", "pattern", "trustRoot")
TRUST_ROOT_FIELDS = ("id", "name", "kind", "trustedRoot", "active")
POLICY_FIELDS = ("id", "title", "threshold", "principals", "predicateTypes", "verdicts")


def _refuse(message: str) -> InvalidTrustConfig:
    return InvalidTrustConfig(message)


def strings_check(value: Any) -> None:
    """The input boundary's checks (NUL, lone surrogates, keys too, numbers JSON cannot carry,
    nesting beyond MAX_DEPTH): the API's parser has applied them, manage.py bodies get them here."""
    problem = value_problem(value, max_depth=MAX_DEPTH)
    if problem is not None:
        raise _refuse(str(problem))


def _allowed(body: Mapping[str, Any], fields: Collection[str], what: str) -> None:
    unknown = sorted(str(k) for k in body if k not in fields)
    if unknown:
        raise _refuse(f"unknown field {', '.join(unknown)} in the {what}; "
                      f"allowed: {', '.join(fields)}")


def _slug(value: Any, what: str = "id") -> str:
    if not isinstance(value, str) or not SLUG.fullmatch(value):
        raise _refuse(f"{what} must be a slug (letters, digits, '-' and '_'; "
                      "1 to 100 characters)")
    return value


def _same_id(body: Mapping[str, Any], slug: str) -> None:
    if "id" in body and body["id"] != slug:
        raise _refuse(f"id cannot be changed (this is {slug})")


def _new_or_changed(body: Mapping[str, Any], existing: Any, model: Any, kinds: tuple[str, ...], *,
                    default_kind: str | None) -> tuple[Any, bool]:
    """A new `model` row from `body` (its id and kind), or `existing` with its kind changed if
    asked; `fresh` when every field of the kind must be given (new, or the kind changed)."""
    if existing is None:
        row = model(slug=_slug(body.get("id")))
        row.kind = _choice(body.get("kind", default_kind), "kind", kinds)
        return row, True
    _same_id(body, existing.slug)
    before = existing.kind
    if "kind" in body:
        existing.kind = _choice(body["kind"], "kind", kinds)
    return existing, existing.kind != before


def _text(value: Any, what: str, limit: int) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise _refuse(f"{what} must be a string of at most {limit} characters")
    return value


def _name(value: Any, what: str, default: str) -> str:
    text = _text(value, what, MAX_NAME).strip()
    return text or default


def _flag(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise _refuse(f"{what} must be true or false")
    return value


def _choice(value: Any, what: str, choices: Collection[str]) -> str:
    if value not in choices:
        raise _refuse(f"{what} must be one of {', '.join(choices)}")
    return str(value)


def _time(value: Any, what: str) -> datetime | None:
    """An RFC 3339 time with a zone, or None (JSON null: no expiry)."""
    if value is None:
        return None
    text = _text(value, what, MAX_TIME) if isinstance(value, str) else None
    try:
        parsed = datetime.fromisoformat(text) if text else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise _refuse(f"{what} must be an RFC 3339 time such as 2027-06-30T00:00:00Z, or null")
    if parsed.tzinfo is None:
        raise _refuse(f"{what} needs a time zone, e.g. 2027-06-30T00:00:00Z")
    try:
        return parsed.astimezone(UTC)  # stored and served in UTC
    except OverflowError as exc:  # 0001-01-01T00:00:00+01:00 is in year 0 in UTC
        raise _refuse(f"{what} is out of range") from exc


def _strings(value: Any, what: str, *, least: int, most: int, limit: int) -> list[str]:
    ok = isinstance(value, list) and least <= len(value) <= most and all(
        isinstance(v, str) and 0 < len(v) <= limit for v in value)
    if not ok:
        raise _refuse(f"{what} must be a list of {least} to {most} non-empty strings of at "
                      f"most {limit} characters")
    return list(value)


# --- principals ----------------------------------------------------------------------------


def principal_from_body(body: Mapping[str, Any], *, existing: Principal | None = None) -> Principal:
    """The principal `body` describes: a new one, or `existing` with the given fields changed."""
    strings_check(body)
    _allowed(body, PRINCIPAL_FIELDS, "principal")
    principal, fresh = _new_or_changed(body, existing, Principal, (Principal.KEY, Principal.SIGSTORE),
                                       default_kind=None)
    if "displayName" in body or not principal.display_name:
        principal.display_name = _name(body.get("displayName", ""), "displayName", principal.slug)
    if "expiresAt" in body:
        principal.expires_at = _time(body["expiresAt"], "expiresAt")
    if principal.kind == Principal.KEY:
        if "sigstore" in body:
            raise _refuse("sigstore is only for sigstore principals; this is a key principal")
        if "publicKey" in body or fresh:
            principal.public_key_pem = _text(body.get("publicKey"), "publicKey", MAX_PEM)
    else:
        if "publicKey" in body:
            raise _refuse("publicKey is only for key principals; this is a sigstore principal")
        if "sigstore" in body or fresh:
            _identity_apply(principal, body.get("sigstore"), fresh=fresh)
    return principal


def _identity_apply(principal: Principal, identity: Any, *, fresh: bool) -> None:
    if not isinstance(identity, Mapping):
        raise _refuse("sigstore must be an object {issuer, subject, pattern, trustRoot}")
    _allowed(identity, SIGSTORE_FIELDS, "sigstore identity")
    for key in ("issuer", "subject", "trustRoot"):
        if fresh and key not in identity:
            raise _refuse(f"sigstore.{key} is required")
    if "issuer" in identity:
        principal.oidc_issuer = _text(identity["issuer"], "sigstore.issuer", MAX_IDENTITY)
    if "subject" in identity:
        principal.subject = _text(identity["subject"], "sigstore.subject", MAX_IDENTITY)
    if "pattern" in identity or fresh:
        principal.subject_is_pattern = _flag(identity.get("pattern", False), "sigstore.pattern")
    if "trustRoot" in identity:
        slug = _slug(identity["trustRoot"], "sigstore.trustRoot")
        root = TrustRoot.objects.filter(slug=slug).first()
        if root is None:
            raise _refuse(f"unknown trust root {slug}")
        principal.trust_root = root


# --- trust roots ---------------------------------------------------------------------------


def trust_root_from_body(body: Mapping[str, Any], *, existing: TrustRoot | None = None) -> TrustRoot:
    """The trust root `body` describes: a new one, or `existing` with the given fields changed."""
    strings_check(body)
    _allowed(body, TRUST_ROOT_FIELDS, "trust root")
    root, fresh = _new_or_changed(body, existing, TrustRoot, (TrustRoot.CUSTOM, TrustRoot.PRODUCTION),
                                  default_kind=TrustRoot.CUSTOM)
    if "name" in body or not root.name:
        root.name = _name(body.get("name", ""), "name", root.slug)
    if "active" in body:
        root.is_active = _flag(body["active"], "active")
    if root.kind == TrustRoot.PRODUCTION:
        if "trustedRoot" in body:
            raise _refuse("trustedRoot is only for custom roots; production uses the embedded one")
    elif "trustedRoot" in body or fresh:
        root.trusted_root_json = _trusted_root_text(body.get("trustedRoot"))
    return root


def _trusted_root_text(value: Any) -> str:
    if isinstance(value, Mapping):
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    elif isinstance(value, str) and value.strip():
        text = value
    else:
        raise _refuse("trustedRoot must be the instance's trusted_root.json (an object or its text)")
    if len(text) > MAX_TRUSTED_ROOT:
        raise _refuse(f"trustedRoot is {len(text)} characters; the limit is {MAX_TRUSTED_ROOT}")
    return text


# --- trust policies ------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyChange:
    """A policy to save, and its new principals (None: keep the stored ones)."""

    policy: TrustPolicy
    principals: list[Principal] | None


def policy_from_body(body: Mapping[str, Any], *, existing: TrustPolicy | None = None) -> PolicyChange:
    """The policy `body` describes; the threshold must lie between 1 and its principal count."""
    strings_check(body)
    _allowed(body, POLICY_FIELDS, "policy")
    if existing is None:
        policy = TrustPolicy(slug=_slug(body.get("id")), predicate_types=[REVIEW_V1],
                             verdicts=[VERDICT_APPROVED])
        for key in ("threshold", "principals"):
            if key not in body:
                raise _refuse(f"{key} is required")
    else:
        policy = existing
        _same_id(body, policy.slug)
    if "title" in body or not policy.title:
        policy.title = _name(body.get("title", ""), "title", policy.slug)
    principals = _principals(body["principals"]) if "principals" in body else None
    if "threshold" in body:
        threshold = body["threshold"]
        if type(threshold) is not int:  # bool is an int to Python, not to us
            raise _refuse("threshold must be an integer")
        policy.threshold = threshold
    count = len(principals) if principals is not None else policy.principals.count()
    if policy.threshold < 1:
        raise _refuse("threshold must be at least 1")
    if policy.threshold > count:
        raise _refuse(f"threshold ({policy.threshold}) must be at most the number of "
                      f"principals ({count})")
    if "predicateTypes" in body:
        policy.predicate_types = _strings(body["predicateTypes"], "predicateTypes", least=1,
                                          most=MAX_PREDICATE_TYPES, limit=MAX_PREDICATE_TYPE)
    if "verdicts" in body:
        policy.verdicts = _strings(body["verdicts"], "verdicts (empty accepts any)", least=0,
                                   most=MAX_VERDICTS, limit=MAX_VERDICT)
    return PolicyChange(policy=policy, principals=principals)


def _principals(value: Any) -> list[Principal]:
    if not isinstance(value, list) or len(value) > MAX_POLICY_PRINCIPALS:
        raise _refuse(f"principals must be a list of at most {MAX_POLICY_PRINCIPALS} principal ids")
    slugs = [_slug(v, "each principal") for v in value]
    repeated = sorted({s for s in slugs if slugs.count(s) > 1})
    if repeated:
        raise _refuse(f"principals lists {', '.join(repeated)} more than once")
    found = {p.slug: p for p in Principal.objects.filter(slug__in=slugs)}
    unknown = [s for s in slugs if s not in found]
    if unknown:
        raise _refuse(f"unknown principals: {', '.join(unknown)}")
    return [found[s] for s in slugs]
