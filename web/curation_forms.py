"""Forms of the curation screens: review decisions and the rules editor."""

from __future__ import annotations

from typing import Any

from django import forms

from curation.models import Action, CatalogRule
from curation.rules import RuleSpec
from curation.services.catalogs import MAX_RULES
from web.selectors import REGISTRY_TYPES, TRANSPORTS

RULE_TEXT_FIELDS = ("name_pattern", "namespace", "source", "repository_host", "trust_policy", "note")


class DecisionForm(forms.Form):
    """Approve or reject one pending version, with a reason."""

    name = forms.CharField(max_length=200, widget=forms.HiddenInput)
    version = forms.CharField(max_length=255, widget=forms.HiddenInput)
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    reason = forms.CharField(max_length=1000, required=False, label="Reason")
    include_future = forms.BooleanField(required=False,
                                        label="Also approve this server's future versions")


def _opt(values: tuple[str, ...], empty: str = "any") -> list[tuple[str, str]]:
    return [("", empty), *[(v, v) for v in values]]


class RuleForm(forms.Form):
    """One rule: every non-empty criterion must match; first matching rule wins."""

    action = forms.ChoiceField(choices=[("", "—"), *Action.choices], required=False)
    name_pattern = forms.CharField(max_length=200, required=False, label="Name glob")
    namespace = forms.CharField(max_length=200, required=False, label="Namespace glob")
    source = forms.CharField(max_length=100, required=False, label="Source")
    registry_type = forms.ChoiceField(choices=_opt(REGISTRY_TYPES), required=False,
                                      label="Package type")
    transport = forms.ChoiceField(choices=_opt(TRANSPORTS), required=False, label="Transport")
    kind = forms.ChoiceField(choices=[("", "any"), *CatalogRule.Kind.choices[1:]], required=False,
                             label="Runs as")
    repository_host = forms.CharField(max_length=200, required=False, label="Repository host")
    status = forms.ChoiceField(choices=_opt(("active", "deprecated", "deleted")), required=False)
    schema_valid = forms.ChoiceField(choices=[("", "any"), ("true", "valid"),
                                              ("false", "invalid")], required=False,
                                     label="Schema")
    trust_policy = forms.CharField(max_length=100, required=False, label="Trust policy")
    note = forms.CharField(max_length=500, required=False)

    def payload(self) -> dict[str, Any] | None:
        """The rule as curation's API takes it; None for a blank row."""
        data = self.cleaned_data
        if not data.get("action"):
            return None
        rule: dict[str, Any] = {"action": data["action"]}
        for key in (*RULE_TEXT_FIELDS, "registry_type", "transport", "kind", "status"):
            if data.get(key):
                rule[key] = data[key].strip()
        if data.get("schema_valid"):
            rule["schema_valid"] = data["schema_valid"] == "true"
        return rule


class CappedRuleFormSet(forms.BaseFormSet):
    """A POST claiming more rules than a catalog holds builds no forms at all.

    Django would otherwise build, validate and render up to max_num + 1,000 forms for any
    TOTAL_FORMS a client sends (100,000 held a worker for 30 s); the page says why instead.
    """

    default_error_messages = {
        **forms.BaseFormSet.default_error_messages,
        "too_many_forms": "A catalog holds at most %(num)d rules; this form sent more. "
                          "Reload the rules editor and try again.",
    }

    def total_form_count(self) -> int:
        if self.is_bound and self._claims_too_many():
            return 0
        return int(super().total_form_count())

    def _claims_too_many(self) -> bool:
        management = self.management_form
        return bool(management.is_valid()
                    and management.cleaned_data["TOTAL_FORMS"] > self.absolute_max)


RuleFormSet = forms.formset_factory(RuleForm, formset=CappedRuleFormSet, extra=1,
                                    max_num=MAX_RULES, absolute_max=MAX_RULES, validate_max=True,
                                    can_delete=True)


def rule_initial(rule: CatalogRule) -> dict[str, Any]:
    """A stored rule as the form's initial data."""
    data = {key: getattr(rule, key) for key in ("action", *RULE_TEXT_FIELDS, "registry_type",
                                                 "transport", "kind", "status")}
    data["schema_valid"] = "" if rule.schema_valid is None else str(rule.schema_valid).lower()
    return data


def rule_specs(payloads: list[dict[str, Any]]) -> list[RuleSpec]:
    """Rules for curation's pure matcher (the note is not a criterion)."""
    return [RuleSpec(id=i + 1, **{k: v for k, v in p.items() if k != "note"})
            for i, p in enumerate(payloads)]


def formset_payloads(formset: Any) -> list[dict[str, Any]]:
    """The rules of a valid formset, in order, without deleted or blank rows."""
    out = []
    for form in formset.forms:
        if form.cleaned_data.get("DELETE"):
            continue
        payload = form.payload()
        if payload is not None:
            out.append(payload)
    return out


class DefaultActionForm(forms.Form):
    """What happens to versions no rule matches."""

    default_action = forms.ChoiceField(choices=Action.choices, label="When no rule matches")
