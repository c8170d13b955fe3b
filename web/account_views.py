"""Account pages: API tokens (create, revoke, scope) and the namespaces a user may publish to."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from registry import services
from registry.models import ApiToken
from web import grants
from web.forms import TokenForm

NEW_SECRET_KEY = "web.new_token_secret"


def _actor(request: HttpRequest) -> str:
    return f"user:{request.user.get_username()}"


def _render_account(request: HttpRequest, form: TokenForm, status: int = 200) -> HttpResponse:
    granted = grants.user_publish_patterns(request.user)
    return render(request, "web/account.html", {
        "form": form, "tokens": grants.user_tokens(request.user), "granted": granted,
        "new_secret": request.session.pop(NEW_SECRET_KEY, None),
    }, status=status)


@require_GET
@login_required
def account(request: HttpRequest) -> HttpResponse:
    """The signed-in user's tokens and grants; a new token's secret is shown once."""
    return _render_account(request, TokenForm())


@require_POST
@login_required
def token_create(request: HttpRequest) -> HttpResponse:
    """Create a token within the user's own grants, then show its secret once."""
    form = TokenForm(request.POST)
    if form.is_valid():
        granted = grants.user_publish_patterns(request.user)
        outside = grants.patterns_outside(form.cleaned_data["patterns"], granted)
        if outside:
            form.add_error("patterns", f"Outside what you may publish to: {', '.join(outside)}")
        if form.cleaned_data["can_edit"] and not request.user.is_superuser:
            form.add_error("can_edit", "Only administrators can create editing tokens.")
    if not form.is_valid():
        return _render_account(request, form, status=400)
    created = services.token_create(
        name=form.cleaned_data["name"], patterns=form.cleaned_data["patterns"],
        actor=_actor(request), owner=request.user, can_edit=form.cleaned_data["can_edit"],
        expires_in_days=form.cleaned_data["expires_in_days"])
    request.session[NEW_SECRET_KEY] = created.secret
    messages.success(request, f"Token “{created.token.name}” created.")
    return redirect("web:account")


@require_POST
@login_required
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    """Revoke one of the user's own tokens."""
    token = ApiToken.objects.filter(owner=request.user, pk=token_id).first()
    if token is None:
        return render(request, "web/404.html", {"what": "token"}, status=404)
    services.token_revoke(token=token, actor=_actor(request))
    messages.success(request, f"Token “{token.name}” revoked.")
    return redirect("web:account")
