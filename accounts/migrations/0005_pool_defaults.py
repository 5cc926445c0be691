"""Install the pool caps and return rules the issue gives as defaults."""

from django.db import migrations

RULES = {
    "prospect": (30, None),
    "A": (None, None),
    "B": (None, None),
    "C": (120, None),
    "D": (90, None),
}


def install(apps, schema_editor):
    PoolPolicy = apps.get_model("accounts", "PoolPolicy")
    PoolReturnRule = apps.get_model("accounts", "PoolReturnRule")
    if not PoolPolicy.objects.exists():
        PoolPolicy.objects.create(
            max_customers_per_manager=200, max_claims_per_day=20, warning_days=7
        )
    for scope, (contact_days, transaction_days) in RULES.items():
        PoolReturnRule.objects.get_or_create(
            scope=scope,
            defaults={
                "days_without_contact": contact_days,
                "days_without_transaction": transaction_days,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_prospect_pool")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
