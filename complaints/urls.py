from django.urls import path

from . import views

app_name = "complaints"
urlpatterns = [
    path("", views.ComplaintListView.as_view(), name="list"),
    path("new/<int:customer_pk>/", views.complaint_create, name="create"),
    path("<int:pk>/", views.complaint_detail, name="detail"),
    path("<int:pk>/transition/", views.complaint_transition, name="transition"),
    path("<int:pk>/confirm/", views.complaint_confirm, name="confirm"),
    path("<int:pk>/entries/", views.note_add, name="note_add"),
    path("<int:pk>/follow-ups/", views.follow_up_add, name="follow_up_add"),
    path("<int:pk>/impact-eliminated/", views.impact_eliminate, name="impact_eliminate"),
    path("<int:pk>/attachments/", views.attachment_add, name="attachment_add"),
    path("<int:pk>/task-force/", views.task_force_add, name="task_force_add"),
]
