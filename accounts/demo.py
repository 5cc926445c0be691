"""Demo data of the accounts app beyond customers: who took each customer over, and a pool."""

from datetime import timedelta

from django.utils import timezone

from .models import AssignmentChange, AssignmentKind, Customer, ManagerRole


def seed(context) -> None:
    now = timezone.now()
    rng = context.rng
    rows = Customer.objects.filter(pk__in=context.customer_ids).values_list(
        "pk", "primary_manager_id"
    )
    from .management.commands.seed_demo import fast_insert

    changes, pooled = [], []
    for pk, manager_id in rows.iterator(chunk_size=5000):
        if manager_id is None:
            continue
        if rng.random() < 0.04:
            pooled.append(pk)
            continue
        changes.append(
            (
                pk,
                ManagerRole.PRIMARY,
                AssignmentKind.CREATED,
                manager_id,
                manager_id,
                now - timedelta(days=rng.randint(1, 100)),
                "客户经理接手（演示数据）",
            )
        )
    fields = ["customer_id", "role", "kind", "new_user_id", "changed_by_id", "changed_at", "reason"]
    fast_insert(AssignmentChange, fields, changes)
    for start in range(0, len(pooled), 500):
        Customer.objects.filter(pk__in=pooled[start : start + 500]).update(
            primary_manager=None, assistant_manager=None
        )
    context.stdout.write(f"Pool: {len(pooled)} customers without a manager.")
