from functools import cache

from .models import Notification


def unread_notifications(request) -> dict:
    """Give every page the unread count for the bell in the header (one query, lazily)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    @cache  # the header and a page (the home page) may both show it: count once
    def count() -> int:
        return Notification.objects.for_user(user).unread().count()

    return {"unread_notification_count": count}
