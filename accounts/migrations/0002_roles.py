"""Create the role groups with their model permissions."""

from django.db import migrations

ROLE_PERMISSIONS = {
    "account_manager": {
        "accounts": {
            "customer": ["view", "add", "change"],
            "contact": ["view", "add", "change"],
            "transaction": ["view", "add", "change"],
            "qualificationdocument": ["view", "add"],
            "admissionrequest": ["view", "add"],
        },
    },
    "department_head": {
        "accounts": {
            "customer": ["view", "add", "change"],
            "contact": ["view", "add", "change"],
            "transaction": ["view", "add", "change"],
            "qualificationdocument": ["view", "add", "change"],
            "admissionrequest": ["view", "add", "change"],
            "assignmentchange": ["view", "add"],
            "handover": ["view", "add"],
        },
    },
    "finance": {
        "accounts": {
            "customer": ["view"],
            "contact": ["view"],
            "transaction": ["view", "add", "change"],
            "qualificationdocument": ["view", "change"],
        },
    },
    "executive": {
        "accounts": {
            "customer": ["view"],
            "contact": ["view"],
            "transaction": ["view"],
            "qualificationdocument": ["view"],
            "admissionrequest": ["view"],
            "assignmentchange": ["view"],
            "handover": ["view"],
        },
    },
}


def create_roles(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations; make sure they exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, by_app in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        for app_label, by_model in by_app.items():
            for model, actions in by_model.items():
                codenames = [f"{action}_{model}" for action in actions]
                group.permissions.add(
                    *Permission.objects.filter(
                        content_type__app_label=app_label, codename__in=codenames
                    )
                )


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
