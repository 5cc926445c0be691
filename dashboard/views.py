from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from accounts.models import Customer
from accounts.selectors import pool_returning_soon
from notifications.models import Notification

from . import services


@login_required
def home(request: HttpRequest) -> HttpResponse:
    customers = Customer.objects.visible_to(request.user)
    by_status = dict(customers.values_list("status").annotate(n=Count("pk")).order_by())
    by_tier = dict(customers.values_list("tier").annotate(n=Count("pk")).order_by())
    context = {
        "customer_count": sum(by_status.values()),
        "by_status": by_status,
        "by_tier": by_tier,
        "recent_notifications": Notification.objects.for_user(request.user)[:5],
        "returning_soon": pool_returning_soon(request.user)[:10],
    }
    return render(request, "dashboard/home.html", context)


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Report whether the database and the broker answer; says nothing about configuration.

    200 when both are reachable, 503 otherwise. The age of beat's last heartbeat is shown for
    monitoring but does not change the status (beat may legitimately be restarting).
    """
    database = services.database_ok()
    broker = services.broker_ok()
    body = {"database": "ok" if database else "down", "broker": "ok" if broker else "down"}
    if database:
        try:
            body["beat_age_seconds"] = services.heartbeat_age_seconds()
        except Exception:  # e.g. before the first migration
            body["beat_age_seconds"] = None
    return JsonResponse(body, status=200 if database and broker else 503)
