"""PlainSelect writes the same <select> as Django's Select, without a template per option."""

import pytest
from django import forms
from django.test.html import parse_html

from accounts.widgets import PlainSelect

CHOICES = [("", "---------"), (1, "张三"), (2, "<b>李四</b>"), ("g", [(3, "A & B"), (4, "王五")])]


@pytest.mark.parametrize("value", [None, 2, "4", "nothing"])
def test_the_markup_is_django_selects(value):
    attrs = {"id": "id_manager", "class": "form-select"}
    ours = PlainSelect(choices=CHOICES).render("manager", value, attrs)
    django = forms.Select(choices=CHOICES).render("manager", value, attrs)
    assert parse_html(ours) == parse_html(django)


def test_labels_are_escaped_and_the_value_selected():
    html = PlainSelect(choices=CHOICES).render("manager", 2)
    assert "&lt;b&gt;李四&lt;/b&gt;" in html and "<b>" not in html
    assert '<option value="2" selected>' in html
    assert html.count("selected") == 1


def test_the_customer_list_filter_uses_it(client_for, executive):
    response = client_for(executive).get("/customers/")
    fields = response.context["filter"].form.fields
    for name in ("status", "tier", "department", "manager", "industry", "ordering"):
        assert isinstance(fields[name].widget, PlainSelect), name
    assert '<select name="manager" class="form-select" id="id_manager">' in response.text


@pytest.mark.parametrize(
    ("url", "selects"),
    [
        ("/complaints/?scope=all", ("status", "severity", "tier")),
        ("/contracts/all/", ("status", "tier")),
    ],
)
def test_the_complaint_and_contract_filters_are_written_without_crispy(
    client_for, executive, url, selects
):
    client = client_for(executive)
    client.get(url)
    response = client.get(url)
    assert response.status_code == 200
    fields = response.context["filter"].form.fields
    for name in selects:
        assert isinstance(fields[name].widget, PlainSelect), name
        assert f'<select name="{name}" class="form-select" id="id_{name}">' in response.text
    # crispy's templates per field were most of the page's rendering time.
    assert not any(t.name.startswith("bootstrap5/") for t in response.templates if t.name)
