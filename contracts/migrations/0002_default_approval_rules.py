from decimal import Decimal

from django.db import migrations

# The policy's defaults; admins may change them later in Django admin.
DEFAULT_RULES = [
    dict(order=1, name="部门负责人审批", decider_role="department_head", always=True),
    dict(
        order=2,
        name="财务会签",
        decider_role="finance",
        min_amount=Decimal("1000000.00"),
        min_discount=Decimal("10.00"),
    ),
    dict(
        order=3,
        name="总经理审批",
        decider_role="executive",
        min_amount=Decimal("5000000.00"),
        customer_tiers="A",
    ),
]


def install_defaults(apps, schema_editor):
    ApprovalRule = apps.get_model("contracts", "ApprovalRule")
    if ApprovalRule.objects.exists():
        return
    for rule in DEFAULT_RULES:
        ApprovalRule.objects.create(**rule)


class Migration(migrations.Migration):
    dependencies = [("contracts", "0001_initial")]

    operations = [migrations.RunPython(install_defaults, migrations.RunPython.noop)]
