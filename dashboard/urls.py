from django.urls import path

from . import views

app_name = "dashboard"
urlpatterns = [
    path("", views.report_index, name="report_index"),
    path("movement/customers/", views.movement_customer_list, name="movement_customers"),
    path("<slug:slug>/", views.report_detail, name="report"),
    path("<slug:slug>/export.xlsx", views.report_export, name="report_export"),
]
