"""The report table's rows, written in Python: formatting by column kind and escaping."""

from decimal import Decimal

from django.template import Context, Template

from dashboard.reports import INT, MONEY, PERCENT, TEXT

COLUMNS = [("Manager", TEXT), ("Sales", MONEY), ("Customers", INT), ("Rate", PERCENT)]


def render(rows) -> str:
    template = Template(
        "{% load dashboard_tags %}"
        '{% include "dashboard/partials/report_table.html" with caption="t" %}'
    )
    return template.render(Context({"columns": COLUMNS, "rows": rows, "totals": None}))


def test_cells_are_formatted_by_kind_and_escaped():
    html = render(
        [["<b>张三</b>", Decimal("1234.5"), 1200, None], ["李四", None, 0, Decimal("50.0")]]
    )
    assert (
        '<tr><th scope="row" class="text-nowrap">&lt;b&gt;张三&lt;/b&gt;</th>'
        '<td class="money">¥1,234.50</td><td class="money">1,200</td>'
        '<td class="money">–</td></tr>'
    ) in html
    assert '<td class="money">–</td><td class="money">0</td><td class="money">50.0 %</td>' in html
    assert "<b>" not in html


def test_no_rows_says_so():
    assert "Nothing to show for these filters." in render([])
