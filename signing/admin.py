"""Django admin for trust roots, principals, trust policies and attestations (saves and
deletes through `signing.services`, audited)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from registry.admin import ServiceAdmin, admin_actor
from signing import services
from signing.models import Attestation, Principal, TrustPolicy, TrustRoot


class TrustRootForm(forms.ModelForm):
    class Meta:
        model = TrustRoot
        fields = ("slug", "name", "kind", "trusted_root_json", "is_active")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        candidate = TrustRoot(
            slug=data.get("slug", ""),
            kind=data.get("kind", ""),
            trusted_root_json=data.get("trusted_root_json", ""),
        )
        try:
            services.trust_root_validate(candidate)
        except services.InvalidTrustConfig as exc:
            raise ValidationError(exc.message) from exc
        return data


@admin.register(TrustRoot)
class TrustRootAdmin(ServiceAdmin):
    form = TrustRootForm
    list_display = ("slug", "name", "kind", "is_active", "updated_at")
    list_filter = ("kind", "is_active")

    def save_model(self, request: HttpRequest, obj: TrustRoot, form: Any, change: bool) -> None:
        services.trust_root_save(root=obj, actor=admin_actor(request))

    def delete_model(self, request: HttpRequest, obj: TrustRoot) -> None:
        services.trust_root_delete(root=obj, actor=admin_actor(request))


class PrincipalForm(forms.ModelForm):
    class Meta:
        model = Principal
        fields = (
            "slug",
            "display_name",
            "kind",
            "trust_root",
            "oidc_issuer",
            "subject",
            "subject_is_pattern",
            "public_key_pem",
            "expires_at",
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        candidate = Principal(**{k: v for k, v in data.items() if k in self.Meta.fields})
        try:
            services.principal_validate(candidate)
        except services.InvalidTrustConfig as exc:
            raise ValidationError(exc.message) from exc
        return data


@admin.register(Principal)
class PrincipalAdmin(ServiceAdmin):
    form = PrincipalForm
    list_display = ("slug", "display_name", "kind", "trust_root", "subject", "keyid", "expires_at")
    list_filter = ("kind", "trust_root")
    search_fields = ("slug", "display_name", "subject", "keyid")

    def save_model(self, request: HttpRequest, obj: Principal, form: Any, change: bool) -> None:
        services.principal_save(principal=obj, actor=admin_actor(request))

    def delete_model(self, request: HttpRequest, obj: Principal) -> None:
        services.principal_delete(principal=obj, actor=admin_actor(request))


@admin.register(TrustPolicy)
class TrustPolicyAdmin(ServiceAdmin):
    list_display = ("slug", "title", "threshold", "updated_at")
    filter_horizontal = ("principals",)

    def save_model(self, request: HttpRequest, obj: TrustPolicy, form: Any, change: bool) -> None:
        # One call with the principals (ServiceAdmin.save_related does not save_m2m), so the
        # audit event lists the principals the policy now has.
        services.policy_save(policy=obj, principals=form.cleaned_data["principals"],
                             actor=admin_actor(request))

    def delete_model(self, request: HttpRequest, obj: TrustPolicy) -> None:
        services.policy_delete(policy=obj, actor=admin_actor(request))


@admin.register(Attestation)
class AttestationAdmin(ServiceAdmin):
    list_display = ("pk", "version", "kind", "state", "predicate_type", "verdict", "signer", "verified_at")
    list_filter = ("state", "kind", "predicate_type")
    search_fields = ("version__name", "signer", "submitted_by")
    readonly_fields = [
        f.name for f in Attestation._meta.get_fields() if f.concrete and not f.many_to_many
    ] + ["principals"]
    actions = ["reverify"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # attestations arrive through the API, where they are checked

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # what is stored is what was verified: re-verify instead

    def delete_model(self, request: HttpRequest, obj: Attestation) -> None:
        services.attestation_delete(attestation=obj, actor=admin_actor(request))

    @admin.action(description="Re-verify selected attestations now")
    def reverify(self, request: HttpRequest, queryset: Any) -> None:
        for attestation in queryset.select_related("version"):
            services.attestation_verify(attestation=attestation)
