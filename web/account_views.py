"""Account pages: API tokens (create, revoke, scope), feed URLs of catalogs (create,
revoke) and the namespaces a user may publish to."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from curation import selectors as curation
from curation.models import CatalogFeed
from curation.services import feeds as feed_services
from registry import services
from registry.auth.resource import base_url
from registry.models import ApiToken
from web import grants
from web.forms import FeedForm, TokenForm

NEW_SECRET_KEY = "web.new_token_secret"
NEW_FEED_KEY = "web.new_feed_url"


def _actor(request: HttpRequest) -> str:
    return f"user:{request.user.get_username()}"


def _render_account(request: HttpRequest, form: TokenForm | None = None,
                    feed_form: FeedForm | None = None, status: int = 200) -> HttpResponse:
    granted = grants.user_publish_patterns(request.user)
    feed_form = feed_form or FeedForm(user=request.user)
    return render(request, "web/account.html", {
        "form": form or TokenForm(), "tokens": grants.user_tokens(request.user),
        "granted": granted, "new_secret": request.session.pop(NEW_SECRET_KEY, None),
        "feed_form": feed_form, "can_feed": bool(feed_form.fields["catalog"].choices),
        "feeds": curation.feeds_held(actor=_actor(request), owner_id=request.user.pk),
        "new_feed_url": request.session.pop(NEW_FEED_KEY, None),
    }, status=status)


@require_GET
@login_required
def account(request: HttpRequest) -> HttpResponse:
    """The signed-in user's tokens and grants; a new token's secret is shown once."""
    return _render_account(request)


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
        return _render_account(request, form=form, status=400)
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


@require_POST
@login_required
def feed_create(request: HttpRequest) -> HttpResponse:
    """Issue a feed URL of a catalog the user holds a role in; its URL is shown once."""
    form = FeedForm(request.POST, user=request.user)
    if not form.is_valid():
        return _render_account(request, feed_form=form, status=400)
    catalog = curation.catalog_resolve(form.cleaned_data["catalog"]).catalog
    assert catalog is not None  # the form offers stored catalogs only
    created = feed_services.feed_create(catalog=catalog, name=form.cleaned_data["name"],
                                        actor=_actor(request), owner=request.user)
    request.session[NEW_FEED_KEY] = f"{base_url(request)}/c/{catalog.slug}/k/{created.secret}"
    messages.success(request, f"Feed “{created.feed.name}” of {catalog.slug} created.")
    return redirect("web:account")


@require_POST
@login_required
def feed_revoke(request: HttpRequest, feed_id: int) -> HttpResponse:
    """Revoke one of the user's own feeds."""
    feed = CatalogFeed.objects.filter(owner=request.user, pk=feed_id).select_related("catalog").first()
    if feed is None:
        return render(request, "web/404.html", {"what": "feed"}, status=404)
    feed_services.feed_revoke(feed=feed, actor=_actor(request))
    messages.success(request, f"Feed “{feed.name}” revoked.")
    return redirect("web:account")
