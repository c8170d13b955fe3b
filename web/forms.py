"""Input parsing for the pages: the search bar and the token form."""

from __future__ import annotations

from typing import Any

from django import forms

from registry.models import Status
from registry.services.tokens import MAX_PATTERNS, PATTERN_MAX
from web import curation, trust
from web.selectors import REGISTRY_TYPES, SORTS, TRANSPORTS, Filters

MAX_TOKEN_DAYS = 366


def _choices(values: tuple[str, ...], empty: str) -> list[tuple[str, str]]:
    return [("", empty), *[(v, v) for v in values]]


class SearchForm(forms.Form):
    """The search box and filters; invalid values are dropped rather than refused."""

    field_order = ["q", "catalog", "registry_type", "transport", "kind", "status", "policy",
                   "namespace", "sort"]

    q = forms.CharField(required=False, max_length=200, label="Search")
    registry_type = forms.ChoiceField(required=False, label="Package type",
                                      choices=_choices(REGISTRY_TYPES, "Any package type"))
    transport = forms.ChoiceField(required=False, label="Transport",
                                  choices=_choices(TRANSPORTS, "Any transport"))
    kind = forms.ChoiceField(required=False, label="Runs as", choices=[
        ("", "Package or remote"), ("package", "Has a package"), ("remote", "Has a remote")])
    status = forms.ChoiceField(required=False, label="Status", choices=[
        ("", "Active and deprecated"), *[(s, s) for s in Status.values]])
    namespace = forms.CharField(required=False, max_length=200, label="Namespace")
    policy = forms.ChoiceField(required=False, label="Trust policy")
    catalog = forms.ChoiceField(required=False, label="Catalog")
    sort = forms.ChoiceField(required=False, label="Sort", choices=[
        ("relevance", "Relevance"), ("name", "Name"), ("updated", "Recently updated"),
        ("published", "Recently published")])

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        catalogs = curation.catalog_choices(user)
        if catalogs:
            self.fields["catalog"].choices = [("", "Everything"), *catalogs]
        else:
            del self.fields["catalog"]
        policies = trust.policy_choices()
        if policies:
            self.fields["policy"].choices = [("", "Any (or none)"), *[
                (slug, f"Satisfies {title or slug}") for slug, title in policies]]
        else:
            del self.fields["policy"]

    def filters(self) -> Filters:
        """The validated filters (fields that failed validation are ignored)."""
        self.is_valid()
        data = {k: v for k, v in self.cleaned_data.items() if v}
        if data.get("sort") not in SORTS:
            data.pop("sort", None)
        for key in ("q", "namespace"):
            if key in data:
                data[key] = data[key].strip()
        return Filters(**data)


class TokenForm(forms.Form):
    """Create an API token scoped to name patterns."""

    name = forms.CharField(max_length=200, label="Token name",
                           help_text="What the token is for, e.g. “CI for acme/db”.")
    patterns = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), label="Name patterns",
        help_text="One per line, e.g. io.github.acme/* or io.github.acme/db.")
    can_edit = forms.BooleanField(required=False, label="Also allow admin edits and status changes")
    expires_in_days = forms.IntegerField(required=False, min_value=1, max_value=MAX_TOKEN_DAYS,
                                         label="Expires after (days)",
                                         help_text="Leave empty for no expiry.")

    def clean_patterns(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["patterns"].splitlines()]
        patterns = [line for line in lines if line]
        if not patterns:
            raise forms.ValidationError("Give at least one name pattern.")
        if len(patterns) > MAX_PATTERNS:
            raise forms.ValidationError(f"Give at most {MAX_PATTERNS} name patterns.")
        if any(len(p) > PATTERN_MAX or " " in p for p in patterns):
            raise forms.ValidationError("Patterns are names or prefixes ending in *, without spaces.")
        return patterns


class FeedForm(forms.Form):
    """Issue a feed URL of one catalog (the catalogs the user holds a role in)."""

    prefix = "feed"  # beside the token form on the account page: its own field names and ids

    catalog = forms.ChoiceField(label="Catalog")
    name = forms.CharField(max_length=200, label="Feed name",
                           help_text="Where you will use it, e.g. “laptop VS Code”.")

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["catalog"].choices = curation.feed_catalog_choices(user)
