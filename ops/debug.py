"""DEBUG error pages that can always be sent, whatever text the failing request carried.

Django's technical 500 page quotes the exception and every frame's locals. When those hold
a lone surrogate (a cursor decoded from base64, a header) the page cannot be encoded as
UTF-8: building the response raises again, every middleware layer's handler renders a new
page for the longer exception chain, and the worker spends ~30 s in that loop until
gunicorn kills it. These reporters escape what cannot be encoded (`\\ud800`) instead.
"""

from __future__ import annotations

from django.utils.safestring import SafeString, mark_safe
from django.views.debug import ExceptionReporter


def encodable(text: str) -> str:
    """`text` with lone surrogates written as backslash escapes (valid UTF-8 afterwards)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class EncodableExceptionReporter(ExceptionReporter):
    """Django's reporter, its HTML and text pages always encodable (DEFAULT_EXCEPTION_REPORTER)."""

    # Escaping a surrogate adds only backslashes and hex digits: still the same safe markup.
    def get_traceback_html(self) -> SafeString:
        return mark_safe(encodable(super().get_traceback_html()))  # noqa: S308

    def get_traceback_text(self) -> SafeString:
        return mark_safe(encodable(super().get_traceback_text()))  # noqa: S308
