from django.db import migrations


def add_rule(apps, schema_editor):
    ApprovalRule = apps.get_model("contracts", "ApprovalRule")
    if ApprovalRule.objects.filter(over_credit_limit=True).exists():
        return
    # Same order as the finance countersignature: both applying give one finance step.
    ApprovalRule.objects.create(
        order=2, name="财务信用额度审批", decider_role="finance", over_credit_limit=True
    )


class Migration(migrations.Migration):
    dependencies = [("contracts", "0003_receivables")]

    operations = [migrations.RunPython(add_rule, migrations.RunPython.noop)]
