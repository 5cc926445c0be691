from datetime import date

from django.db import migrations

# Chinese public holidays greeted by care tasks; later years are added in the admin.
HOLIDAYS = [
    ("元旦", date(2026, 1, 1)),
    ("春节", date(2026, 2, 17)),
    ("劳动节", date(2026, 5, 1)),
    ("端午节", date(2026, 6, 19)),
    ("中秋节", date(2026, 9, 25)),
    ("国庆节", date(2026, 10, 1)),
    ("元旦", date(2027, 1, 1)),
    ("春节", date(2027, 2, 6)),
    ("劳动节", date(2027, 5, 1)),
    ("端午节", date(2027, 6, 9)),
    ("中秋节", date(2027, 9, 15)),
    ("国庆节", date(2027, 10, 1)),
]


def add_holidays(apps, schema_editor):
    Holiday = apps.get_model("visits", "Holiday")
    for name, day in HOLIDAYS:
        Holiday.objects.get_or_create(name=name, date=day)


def remove_holidays(apps, schema_editor):
    Holiday = apps.get_model("visits", "Holiday")
    for name, day in HOLIDAYS:
        Holiday.objects.filter(name=name, date=day).delete()


class Migration(migrations.Migration):
    dependencies = [("visits", "0001_initial")]

    operations = [migrations.RunPython(add_holidays, remove_holidays)]
