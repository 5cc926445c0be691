from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy

from dashboard import views as dashboard_views

urlpatterns = [
    path("", dashboard_views.home, name="home"),
    path("healthz", dashboard_views.healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(success_url="/password/done/"),
        name="password_change",
    ),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("i18n/", include("django.conf.urls.i18n")),
    path("customers/", include("accounts.urls")),
    path("tiers/", include("tiers.urls")),
    path("visits/", include("visits.urls")),
    path("complaints/", include("complaints.urls")),
    path("contracts/", include("contracts.urls")),
    path("notifications/", include("notifications.urls")),
    path("reports/", include("dashboard.urls")),
    path("admin/", admin.site.urls),
]

admin.site.site_header = gettext_lazy("Key-account CRM")
admin.site.site_title = "CRM"

# Uploaded files are never served from a public URL: see accounts:document_download.
