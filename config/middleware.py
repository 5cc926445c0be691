"""Request middleware that belongs to the deployment rather than to one app."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

LAST_RENEWED_KEY = "_session_renewed_at"


@receiver(user_logged_in, dispatch_uid="config.middleware.session_renewed_at_login")
def _renewed_at_login(sender, request, user, **kwargs) -> None:
    """Logging in saves the session anyway: start the idle clock there, at no extra write."""
    session = getattr(request, "session", None)
    if session is not None:
        session[LAST_RENEWED_KEY] = int(time.time())


class IdleSessionMiddleware:
    """End a signed-in session after SESSION_COOKIE_AGE seconds without a request.

    Django sets a session's expiry when it saves it. Marking the session as modified once every
    SESSION_RENEW_INTERVAL seconds renews the expiry (database row and cookie) while the user
    is active, so the session ends SESSION_COOKIE_AGE after the last activity, give or take the
    interval, at the cost of one write a minute instead of one per request.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if session is None or user is None or not user.is_authenticated:
            return response
        now = int(time.time())
        renewed_at = session.get(LAST_RENEWED_KEY)
        if renewed_at is None or now - renewed_at >= settings.SESSION_RENEW_INTERVAL:
            session[LAST_RENEWED_KEY] = now
        return response
