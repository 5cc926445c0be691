from django.urls import path

from . import views

app_name = "tiers"
urlpatterns = [
    path("", views.RunListView.as_view(), name="run_list"),
    path("runs/compute/", views.run_compute, name="run_compute"),
    path("runs/<int:pk>/", views.RunDetailView.as_view(), name="run_detail"),
    path("runs/<int:pk>/review/", views.run_start_review, name="run_start_review"),
    path("runs/<int:pk>/publish/", views.run_publish, name="run_publish"),
    path("runs/<int:pk>/close/", views.run_close, name="run_close"),
    path("grades/<int:pk>/override/", views.grade_override, name="grade_override"),
    path("grades/<int:pk>/appeal/", views.grade_appeal, name="grade_appeal"),
    path("appeals/", views.AppealListView.as_view(), name="appeal_list"),
    path("appeals/<int:pk>/", views.appeal_detail, name="appeal_detail"),
    path("models/", views.ModelListView.as_view(), name="model_list"),
    path("models/<int:pk>/", views.model_detail, name="model_detail"),
    path("customers/<int:pk>/assess/", views.customer_assess, name="customer_assess"),
]
