from django.urls import path

from . import views

app_name = "visits"
urlpatterns = [
    path("", views.PlanListView.as_view(), name="list"),
    path("calendar/", views.plan_calendar, name="calendar"),
    path("plans/<int:pk>/move/", views.plan_move, name="plan_move"),
    path("plans/<int:pk>/cancel/", views.plan_cancel, name="plan_cancel"),
    path("customers/<int:customer_pk>/record/", views.record_create, name="record_create"),
    path("records/<int:pk>/", views.record_detail, name="record_detail"),
    path("care/", views.CareTaskListView.as_view(), name="care_list"),
    path("care/<int:pk>/done/", views.care_task_done, name="care_task_done"),
    path(
        "customers/<int:customer_pk>/care-expense/",
        views.care_expense_add,
        name="care_expense_add",
    ),
    path("feedback/new/", views.feedback_create, name="feedback_create"),
    path("feedback/compliance/", views.feedback_compliance, name="feedback_compliance"),
    path("archive-checks/", views.archive_checks, name="archive_checks"),
    path("customers/<int:customer_pk>/verify/", views.archive_verify, name="archive_verify"),
]
