from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from accounts.models import Customer
from accounts.selectors import pool_returning_soon
from notifications.models import Notification


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


def healthz(request: HttpRequest) -> JsonResponse:
    """Report whether the database answers; says nothing about configuration."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        ok = True
    except Exception:
        ok = False
    return JsonResponse({"database": "ok" if ok else "down"}, status=200 if ok else 503)
