from django.urls import path

from . import exports, import_views, views

app_name = "accounts"
urlpatterns = [
    path("", views.CustomerListView.as_view(), name="customer_list"),
    path("new/", views.customer_create, name="customer_create"),
    path("pool/", views.PoolListView.as_view(), name="pool"),
    path("<int:pk>/", views.customer_detail, name="customer_detail"),
    path("<int:pk>/edit/", views.customer_edit, name="customer_edit"),
    path("<int:pk>/contacts/new/", views.contact_add, name="contact_add"),
    path("<int:pk>/contacts/<int:contact_pk>/edit/", views.contact_edit, name="contact_edit"),
    path("<int:pk>/transactions/new/", views.transaction_add, name="transaction_add"),
    path("<int:pk>/documents/new/", views.document_add, name="document_add"),
    path(
        "<int:pk>/documents/<int:document_pk>/download/",
        views.document_download,
        name="document_download",
    ),
    path(
        "<int:pk>/documents/<int:document_pk>/verify/",
        views.document_verify,
        name="document_verify",
    ),
    path("<int:pk>/admission/submit/", views.admission_submit, name="admission_submit"),
    path("<int:pk>/admission/decide/", views.admission_decide, name="admission_decide"),
    path("<int:pk>/managers/", views.customer_assign, name="customer_assign"),
    path("<int:pk>/terminate/", views.customer_terminate, name="customer_terminate"),
    path("<int:pk>/dormant/", views.customer_dormant, name="customer_dormant"),
    path("<int:pk>/claim/", views.pool_claim, name="pool_claim"),
    path("<int:pk>/release/", views.pool_release, name="pool_release"),
    path("<int:pk>/pool-lock/", views.pool_lock, name="pool_lock"),
    path("handovers/", views.handover_create, name="handover_create"),
    path("handovers/<int:pk>/", views.handover_detail, name="handover_detail"),
    # Excel export and import.
    path("export.xlsx", exports.customer_export, name="customer_export"),
    path("contacts/export.xlsx", exports.contact_export, name="contact_export"),
    path("transactions/export.xlsx", exports.transaction_export, name="transaction_export"),
    path("import/", import_views.import_start, name="import_start"),
    path("import/template/<slug:kind>.xlsx", import_views.import_template, name="import_template"),
    path("import/<str:token>/", import_views.import_preview, name="import_preview"),
    path("import/<str:token>/commit/", import_views.import_commit, name="import_commit"),
    path(
        "import/<str:token>/failed.xlsx",
        import_views.import_failed_rows,
        name="import_failed_rows",
    ),
]
