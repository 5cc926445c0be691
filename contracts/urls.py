from django.urls import path

from . import views

app_name = "contracts"
urlpatterns = [
    path("", views.ContractListView.as_view(scope="mine"), name="list"),
    path("waiting/", views.ContractListView.as_view(scope="waiting"), name="waiting"),
    path("department/", views.ContractListView.as_view(scope="department"), name="department"),
    path("all/", views.ContractListView.as_view(scope="all"), name="all"),
    path("new/", views.contract_create, name="create"),
    path("<int:pk>/", views.contract_detail, name="detail"),
    path("<int:pk>/edit/", views.contract_edit, name="edit"),
    path("<int:pk>/submit/", views.contract_submit, name="submit"),
    path("<int:pk>/steps/<int:step_pk>/decide/", views.step_decide, name="decide"),
    path("<int:pk>/sign/", views.contract_sign, name="sign"),
    path("<int:pk>/file/", views.contract_file, name="file"),
    path("<int:pk>/terminate/", views.contract_terminate, name="terminate"),
    path("<int:pk>/download/<str:kind>/", views.contract_download, name="download"),
    # Receivables (回款): payment plans and collections.
    path("<int:pk>/plan/", views.plan_edit, name="plan"),
    path("<int:pk>/collections/new/", views.collection_add, name="collection_add"),
    path("receivables/", views.ReceivableListView.as_view(scope="mine"), name="receivables"),
    path(
        "receivables/department/",
        views.ReceivableListView.as_view(scope="department"),
        name="receivables_department",
    ),
    path(
        "receivables/company/",
        views.ReceivableListView.as_view(scope="company"),
        name="receivables_company",
    ),
    path(
        "receivables/export.xlsx",
        views.receivables_export,
        {"scope": "mine"},
        name="receivables_export",
    ),
    path(
        "receivables/department/export.xlsx",
        views.receivables_export,
        {"scope": "department"},
        name="receivables_department_export",
    ),
    path(
        "receivables/company/export.xlsx",
        views.receivables_export,
        {"scope": "company"},
        name="receivables_company_export",
    ),
    path(
        "receivables/unconfirmed/",
        views.unconfirmed_collections,
        name="receivables_unconfirmed",
    ),
    path(
        "receivables/collections/<int:pk>/confirm/",
        views.collection_confirm,
        name="collection_confirm",
    ),
    path(
        "receivables/customers/<int:pk>/credit-override/",
        views.credit_override_add,
        name="credit_override",
    ),
    # credit requests (信用申请)
    path("credit/", views.credit_request_list, name="credit_requests"),
    path("credit/<int:pk>/", views.credit_request_detail, name="credit_request_detail"),
    path("credit/<int:pk>/decide/", views.credit_request_decide, name="credit_request_decide"),
    path(
        "credit/customers/<int:customer_pk>/new/",
        views.credit_request_create,
        name="credit_request_create",
    ),
]
