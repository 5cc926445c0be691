"""Invalidate the cached roles when memberships or departments change.

Memberships are edited in Django admin and through user.groups, not through a service of
ours, so the model signals are the one place that sees every change (seed_demo, which writes
memberships in bulk, calls permissions.roles_changed() itself).
"""

from django.contrib.auth.models import Group
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from . import permissions
from .models import Department, User


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="accounts.roles.memberships")
def _memberships_changed(sender, action, **kwargs) -> None:
    if action in ("post_add", "post_remove", "post_clear"):
        permissions.roles_changed()


@receiver(post_save, sender=Group, dispatch_uid="accounts.roles.group_saved")
@receiver(post_delete, sender=Group, dispatch_uid="accounts.roles.group_deleted")
@receiver(post_save, sender=Department, dispatch_uid="accounts.roles.department_saved")
@receiver(post_delete, sender=Department, dispatch_uid="accounts.roles.department_deleted")
def _roles_source_changed(sender, **kwargs) -> None:
    permissions.roles_changed()
