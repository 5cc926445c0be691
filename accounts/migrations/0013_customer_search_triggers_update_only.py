# Contacts' triggers refresh an existing search row instead of inserting one.
#
# Deleting every table at once (a test database's flush on SQLite) deletes customers and
# contacts in any order; a contact's trigger that re-inserted its customer's search row left a
# row pointing to a deleted customer, and the deferred foreign key failed at commit. Customers
# create their row; contacts only update it, and only while the customer exists.

import importlib

from django.db import migrations

INITIAL = importlib.import_module("accounts.migrations.0008_customer_search")

TEXT = """
    SELECT upper(c.name || char(31) || c.short_name || coalesce(char(31) ||
        (SELECT group_concat(t.name || char(31) || t.phone, char(31))
         FROM accounts_contact t WHERE t.customer_id = c.id), ''))
    FROM accounts_customer c WHERE c.id = {id}
"""
UPDATE = (
    "UPDATE accounts_customersearch SET text = ({text}) WHERE customer_id = {id} "
    "AND EXISTS (SELECT 1 FROM accounts_customer WHERE id = {id});"
)


def update(customer_id: str) -> str:
    return UPDATE.format(text=TEXT.format(id=customer_id), id=customer_id)


CONTACT_TRIGGERS = ("contact_insert", "contact_update", "contact_delete")
FORWARD = [f"DROP TRIGGER accounts_customersearch_{name}" for name in CONTACT_TRIGGERS] + [
    f"""CREATE TRIGGER accounts_customersearch_contact_insert AFTER INSERT ON accounts_contact
    BEGIN {update("NEW.customer_id")} END""",
    f"""CREATE TRIGGER accounts_customersearch_contact_update
    AFTER UPDATE OF name, phone, customer_id ON accounts_contact
    BEGIN {update("OLD.customer_id")} {update("NEW.customer_id")} END""",
    f"""CREATE TRIGGER accounts_customersearch_contact_delete AFTER DELETE ON accounts_contact
    BEGIN {update("OLD.customer_id")} END""",
]
# Back to the triggers of 0008 (its statements 2–4 create the contact triggers).
BACKWARD = [f"DROP TRIGGER accounts_customersearch_{name}" for name in CONTACT_TRIGGERS] + [
    statement
    for statement in INITIAL.SQLITE_FORWARD
    if "ON accounts_contact" in statement and statement.lstrip().startswith("CREATE TRIGGER")
]


POSTGRESQL_TEXT = """
    SELECT upper(c.name || chr(31) || c.short_name || coalesce(chr(31) ||
        (SELECT string_agg(t.name || chr(31) || t.phone, chr(31) ORDER BY t.id)
         FROM accounts_contact t WHERE t.customer_id = c.id), ''))
    FROM accounts_customer c WHERE c.id = {id}
"""


def postgresql_update(customer_id: str) -> str:
    return UPDATE.format(text=POSTGRESQL_TEXT.format(id=customer_id), id=customer_id)


POSTGRESQL_FORWARD = [
    f"""CREATE OR REPLACE FUNCTION accounts_customersearch_contact_changed() RETURNS trigger AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN {postgresql_update("OLD.customer_id")} END IF;
        IF TG_OP <> 'DELETE' THEN {postgresql_update("NEW.customer_id")} END IF;
        RETURN NULL;
    END $$ LANGUAGE plpgsql"""
]
POSTGRESQL_BACKWARD = [
    statement.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)
    for statement in INITIAL.POSTGRESQL_FORWARD
    if "FUNCTION accounts_customersearch_contact_changed()" in statement
]


def run_for_vendor(statements):
    def run(apps, schema_editor):
        for statement in statements.get(schema_editor.connection.vendor, ()):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("accounts", "0012_customer_department_index")]

    operations = [
        migrations.RunPython(
            run_for_vendor({"sqlite": FORWARD, "postgresql": POSTGRESQL_FORWARD}),
            run_for_vendor({"sqlite": BACKWARD, "postgresql": POSTGRESQL_BACKWARD}),
        )
    ]
