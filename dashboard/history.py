"""Who was responsible for a customer on a given day, from the assignment history.

Every figure by manager (the scorecard, sales and revenue by manager, visit plan execution,
complaint figures, the monthly summaries) counts a transaction, a visit plan or a complaint for
the manager responsible for its customer on the fact's date, so a handover, a release or a
reassignment changes no past figure.

The rule, one place (`primary_manager_on` for one customer, `periods_sql` for every customer
at once; tests check that the two agree):

- Responsible means the *primary* manager. An assistant or chief manager is never credited with
  the customer's sales, plans or complaints, as the scorecard has always done; what they do
  themselves (the visit records they write, the feedback they submit) counts for them as the
  fact's own author.
- A change of the primary manager (`accounts.AssignmentChange`, role primary) takes effect on
  its local date: facts of that day and after belong to the new manager. Of several changes on
  one day the last one counts.
- Before a customer's first recorded change: the manager that change replaced (`old_user`), or,
  when it replaced nobody, its new manager unless the customer came from the pool (a claim or a
  head's assignment from the pool: nobody was responsible before). The first manager set at
  creation (by the form, an import or the demo data) is recorded after facts that were loaded
  with earlier dates; those facts belong to that first manager.
- From the last recorded change on: the customer's current primary manager (the same person in a
  consistent database; where a write bypassed the services, the customer row is what every other
  page shows). A customer without any recorded change has had its current manager throughout.

The department dimension stays the customer's current department: a head's reports cover the
customers they may see today (visibility is by the current department), and figures of a
customer that moved to another department must not stay visible to its former head.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db import connection
from django.utils import timezone

from accounts.models import AssignmentChange, AssignmentKind, Customer, ManagerRole

# Open ends of the periods, comparable with any stored date on both databases.
BEGINNING = date(1, 1, 1)
END = date(9999, 12, 31)
# Changes from the pool: nobody was responsible before them.
FROM_POOL = (AssignmentKind.CLAIM, AssignmentKind.POOL_ASSIGN)


def primary_manager_on(customer: Customer, day: date) -> int | None:
    """The id of the manager responsible for `customer` on `day` (None: nobody, the pool)."""
    changes = AssignmentChange.objects.filter(customer=customer, role=ManagerRole.PRIMARY)
    end_of_day = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))
    latest = changes.filter(changed_at__lt=end_of_day).order_by("-changed_at", "-id").first()
    if latest is None:
        first = changes.order_by("changed_at", "id").first()
        if first is None:
            return customer.primary_manager_id
        if first.old_user_id is not None or first.kind in FROM_POOL:
            return first.old_user_id
        return first.new_user_id
    if not changes.filter(changed_at__gte=end_of_day).exists():
        return customer.primary_manager_id
    return latest.new_user_id


def local_day(column: str) -> tuple[str, list]:
    """SQL for the local date of an aware datetime column, and its parameters."""
    if connection.vendor == "postgresql":
        return f"({column} AT TIME ZONE %s)::date", [timezone.get_current_timezone_name()]
    # SQLite stores UTC text. The zone's offset now: Asia/Shanghai keeps one offset all year.
    offset = timezone.localtime().utcoffset() or timedelta(0)
    return f"date({column}, %s)", [f"{int(offset.total_seconds() // 60):+d} minutes"]


def periods_sql(customers: tuple[str, list] | None = None) -> tuple[str, list]:
    """A SELECT of every customer's periods of responsibility: (customer_id, manager_id,
    valid_from, valid_to), valid_from inclusive and valid_to exclusive, disjoint per customer
    and covering all time; manager_id NULL while the customer was in the pool.

    Join a fact to it on the customer and `valid_from <= fact date < valid_to`. Four scans of
    the assignment history and one of the customers, whatever the number of customers.
    `customers` (a SELECT of customer ids and its parameters) limits it to those customers.
    """
    changes = AssignmentChange._meta.db_table
    customer_table = Customer._meta.db_table
    only, only_params = ("", [])
    if customers is not None:
        only, only_params = f"AND customer_id IN ({customers[0]})", list(customers[1])
    day, day_params = local_day("changed_at")
    sql = f"""
        SELECT x.customer_id,
               CASE WHEN x.valid_to IS NULL THEN c.primary_manager_id ELSE x.new_user_id END
                   AS manager_id,
               x.day AS valid_from, COALESCE(x.valid_to, %s) AS valid_to
        FROM (
            SELECT d.customer_id, d.new_user_id, d.day,
                   LEAD(d.day) OVER (PARTITION BY d.customer_id ORDER BY d.day) AS valid_to
            FROM (
                SELECT customer_id, new_user_id, {day} AS day,
                       ROW_NUMBER() OVER (
                           PARTITION BY customer_id, {day} ORDER BY changed_at DESC, id DESC
                       ) AS last_of_day
                FROM {changes} WHERE role = %s {only}
            ) d
            WHERE d.last_of_day = 1
        ) x
        JOIN {customer_table} c ON c.id = x.customer_id
        UNION ALL
        SELECT f.customer_id,
               CASE WHEN f.old_user_id IS NOT NULL THEN f.old_user_id
                    WHEN f.kind IN (%s, %s) THEN NULL ELSE f.new_user_id END,
               %s, f.day
        FROM (
            SELECT customer_id, old_user_id, new_user_id, kind, {day} AS day,
                   ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY changed_at, id) AS seq
            FROM {changes} WHERE role = %s {only}
        ) f
        WHERE f.seq = 1
        UNION ALL
        SELECT c.id, c.primary_manager_id, %s, %s
        FROM {customer_table} c
        WHERE {"c.id IN (" + customers[0] + ") AND" if customers else ""} NOT EXISTS (
            SELECT 1 FROM {changes} a WHERE a.customer_id = c.id AND a.role = %s
        )
    """  # noqa: S608 - table names and expressions are ours; values are parameters
    params = [
        END,
        *day_params,
        *day_params,
        ManagerRole.PRIMARY,
        *only_params,
        *FROM_POOL,
        BEGINNING,
        *day_params,
        ManagerRole.PRIMARY,
        *only_params,
        BEGINNING,
        END,
        *only_params,
        ManagerRole.PRIMARY,
    ]
    return sql, params


def responsible_join(
    fact_date: str,
    customer: str = "t.customer_id",
    customers: tuple[str, list] | None = None,
    alias: str = "p",
) -> tuple[str, list]:
    """A JOIN clause giving each fact row its responsible manager as `<alias>.manager_id`."""
    sql, params = periods_sql(customers)
    return (
        f"JOIN ({sql}) {alias} ON {alias}.customer_id = {customer}"
        f" AND {alias}.valid_from <= {fact_date} AND {fact_date} < {alias}.valid_to",
        params,
    )


def ever_managed_by(manager_ids: list[int]) -> tuple[str, list]:
    """A SELECT of the customers any of these managers was or is primary manager of."""
    marks = ", ".join(["%s"] * len(manager_ids)) or "NULL"
    sql = f"""
        SELECT customer_id FROM {AssignmentChange._meta.db_table}
        WHERE role = %s AND (new_user_id IN ({marks}) OR old_user_id IN ({marks}))
        UNION
        SELECT id FROM {Customer._meta.db_table} WHERE primary_manager_id IN ({marks})
    """  # noqa: S608 - table names are ours; values are parameters
    return sql, [ManagerRole.PRIMARY, *manager_ids, *manager_ids, *manager_ids]
