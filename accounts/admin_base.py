"""The one base for every app's Django admin.

Django admin is a write path like any form: every field not read-only can be changed by a
staff user, inlines save without the parent's checks and simple-history's "revert" writes an
old version back. So, in one place:

- ``guarded_fields`` (per ModelAdmin, data) lists the fields that only a service may change —
  workflow state, managers, tier and score, credit terms and limit. They are read-only on the
  add and the change form and may not be ``list_editable``.
- Nothing business-related is deleted here; ``delete_selected`` is gone.
- ``allow_add = False`` for rows that only a workflow creates (an admission request, an appeal,
  an approval step).
- ``AuditAdmin`` and ``ReadOnlyInline`` show audit, history and event rows without any add,
  change or delete permission.
- A state change is an admin action (``state_action``) that calls the service with the acting
  admin as the actor; an action that needs a reason asks for it on an intermediate page, and a
  refusal of the rules becomes an error message.
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.admin import SimpleHistoryAdmin

from .errors import BusinessRuleError


class GuardedAdminMixin:
    """Guarded fields read-only, no deletes, no history revert; see the module docstring."""

    guarded_fields: tuple[str, ...] = ()
    allow_add: bool = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        editable = set(getattr(self, "list_editable", ()) or ())
        if editable & set(self.guarded_fields):
            raise ImproperlyConfigured(
                f"{type(self).__name__}: guarded fields cannot be list_editable: "
                f"{sorted(editable & set(self.guarded_fields))}"
            )

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return fields + [name for name in self.guarded_fields if name not in fields]

    def has_add_permission(self, request, *args) -> bool:
        # Inlines pass the parent object as a second argument.
        return self.allow_add and super().has_add_permission(request, *args)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    # simple-history: its history form view saves a historical version back on POST, whatever
    # the revert button shows; that would write every guarded field's old value.
    def revert_disabled(self, request, obj=None) -> bool:
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


class CrmAdmin(GuardedAdminMixin, admin.ModelAdmin):
    """The base ModelAdmin of every business model."""


class CrmHistoryAdmin(GuardedAdminMixin, SimpleHistoryAdmin):
    """The base ModelAdmin of a business model that keeps a simple-history history."""


class AuditMixin(GuardedAdminMixin):
    """Audit, history and event rows: viewable, never added, changed or deleted here."""

    def get_readonly_fields(self, request, obj=None):
        return [
            field.name
            for field in self.model._meta.get_fields()
            if field.concrete and not field.auto_created
        ]

    def has_add_permission(self, request, *args) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class AuditAdmin(AuditMixin, admin.ModelAdmin):
    """The base ModelAdmin of an audit, history or event model."""


class AuditHistoryAdmin(AuditMixin, SimpleHistoryAdmin):
    """An audit or workflow record with a simple-history history: viewable, never written."""


class CrmInline(GuardedAdminMixin, admin.TabularInline):
    """An inline of a business model: guarded fields read-only, rows never deleted."""

    extra = 0
    can_delete = False


class ReadOnlyInline(AuditMixin, admin.TabularInline):
    """An inline that shows rows only: the parent's checks cannot be walked around here."""

    extra = 0
    can_delete = False
    show_change_link = True


# --- State changes as admin actions -------------------------------------------------------


def state_action(
    description,
    *,
    reason: bool = False,
    reason_required: bool = True,
    choices: Callable[[], list[tuple[str, str]]] | None = None,
    choice_label=None,
    form: type[forms.Form] | None = None,
):
    """Turn ``call(modeladmin, request, obj, **data)`` into an admin action over a selection.

    ``call`` invokes one service with ``request.user`` as the actor. With ``reason`` (or
    ``choices``, or a ``form`` of its own) an intermediate page asks for them first. Each object
    goes through the service on its own: a refusal is reported by name and writes nothing.
    """

    def decorate(call):
        def action(modeladmin, request, queryset):
            form_class = form or _action_form(reason, reason_required, choices, choice_label)
            data = {}
            if form_class is not None:
                bound = form_class(request.POST if "confirm" in request.POST else None)
                if not bound.is_bound or not bound.is_valid():
                    return _confirmation_page(modeladmin, request, queryset, bound, action)
                data = bound.cleaned_data
            return _run(modeladmin, request, queryset, call, data)

        action.__name__ = call.__name__
        return admin.action(description=description)(action)

    return decorate


def _action_form(reason, reason_required, choices, choice_label):
    if not reason and choices is None:
        return None
    fields = {}
    if choices is not None:
        fields["choice"] = forms.ChoiceField(
            label=choice_label or gettext_lazy("New status"), choices=choices
        )
    if reason or choices is not None:
        fields["reason"] = forms.CharField(
            label=gettext_lazy("Reason"),
            widget=forms.Textarea(attrs={"rows": 3}),
            required=reason_required,
        )
    return type("ActionForm", (forms.Form,), fields)


def _confirmation_page(modeladmin, request, queryset, form, action):
    opts = modeladmin.model._meta
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": action.short_description,
        "opts": opts,
        "objects": list(queryset[:50]),
        "count": queryset.count(),
        "form": form,
        "action": action.__name__,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
        "select_across": request.POST.get("select_across", "0"),
        "media": modeladmin.media,
    }
    return TemplateResponse(request, "admin/crm_state_action.html", context)


def _run(modeladmin, request, queryset, call, data) -> None:
    done = 0
    for obj in queryset:
        try:
            call(modeladmin, request, obj, **data)
        except BusinessRuleError as error:
            _refused(modeladmin, request, obj, error.message)
        except PermissionDenied:
            _refused(modeladmin, request, obj, _("you may not do this."))
        except ValidationError as error:
            _refused(modeladmin, request, obj, " ".join(error.messages))
        else:
            done += 1
    if done:
        message = _("Done for %(count)d of %(total)d selected.")
        modeladmin.message_user(
            request, message % {"count": done, "total": len(queryset)}, messages.SUCCESS
        )


def _refused(modeladmin, request, obj, reason: str) -> None:
    modeladmin.message_user(
        request, _("%(object)s: %(reason)s") % {"object": obj, "reason": reason}, messages.ERROR
    )
