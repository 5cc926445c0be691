"""Excel import pages: templates, upload, preview, commit, failed rows."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import imports, permissions
from .forms import ImportUploadForm
from .spreadsheets import spooled_file, xlsx_response

PREVIEW_PAGE_SIZE = 100


@login_required
def import_start(request: HttpRequest) -> HttpResponse:
    permissions.require(permissions.can_create_customer(request.user))
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            token = imports.import_preview(
                user=request.user, kind=form.cleaned_data["kind"], upload=form.cleaned_data["file"]
            )
        except imports.ImportRefused as error:
            form.add_error("file", error.message)
        else:
            return redirect("accounts:import_preview", token=token)
    return render(
        request,
        "accounts/imports/import_start.html",
        {"form": form, "kinds": imports.ImportKind.choices},
    )


@login_required
def import_template(request: HttpRequest, kind: str) -> HttpResponse:
    permissions.require(permissions.can_create_customer(request.user))
    if kind not in imports.ImportKind.values:
        raise Http404
    handle = spooled_file()
    imports.build_template(kind, request.user, handle)
    return xlsx_response(handle, f"import-template-{kind}.xlsx")


@login_required
def import_preview(request: HttpRequest, token: str) -> HttpResponse:
    permissions.require(permissions.can_create_customer(request.user))
    stash = imports.stash_load(user=request.user, token=token)
    summary = stash["summary"]
    only_errors = request.GET.get("show") == "errors"
    sheets = []
    for sheet in stash["sheets"]:
        details = summary["sheets"].get(sheet.kind, {"rows": [], "counts": {}})
        rows = details["rows"]
        if only_errors:
            rows = [row for row in rows if row["errors"]]
        page = Paginator(rows, PREVIEW_PAGE_SIZE).get_page(request.GET.get("page"))
        sheets.append(
            {
                "kind": sheet.kind,
                "title": imports.SHEET_TITLES[sheet.kind],
                "source_title": sheet.title,
                "headers": sheet.headers,
                "counts": details["counts"],
                "page": page,
            }
        )
    return render(
        request,
        "accounts/imports/import_preview.html",
        {
            "token": token,
            "stash": stash,
            "summary": summary,
            "sheets": sheets,
            "only_errors": only_errors,
            "kind_label": imports.ImportKind(stash["kind"]).label,
        },
    )


@login_required
@require_POST
def import_commit(request: HttpRequest, token: str) -> HttpResponse:
    try:
        result = imports.import_commit(
            user=request.user, token=token, skip_invalid=request.POST.get("skip_invalid") == "1"
        )
    except imports.ImportRefused as error:
        messages.error(request, error.message)
        return redirect("accounts:import_preview", token=token)
    messages.success(
        request,
        _(
            "Import done: %(created)d created, %(updated)d updated, %(unchanged)d unchanged, "
            "%(skipped)d rows with errors skipped."
        )
        % {
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "skipped": result.skipped,
        },
    )
    if result.kind == imports.ImportKind.TRANSACTIONS:
        return redirect(reverse("accounts:import_start"))
    return redirect("accounts:customer_list")


@login_required
def import_failed_rows(request: HttpRequest, token: str) -> HttpResponse:
    permissions.require(permissions.can_create_customer(request.user))
    stash = imports.stash_load(user=request.user, token=token)
    handle = spooled_file()
    imports.build_failed_rows(stash, handle)
    name = stash["filename"].rsplit(".", 1)[0]
    return xlsx_response(handle, f"{name}-errors.xlsx")
