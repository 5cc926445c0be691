"""The lists' tier_badge tag writes the markup of partials/tier_badge.html."""

import pytest
from django.template import Context, Template
from django.template.loader import render_to_string
from django.test.html import parse_html
from django.utils import translation


@pytest.mark.parametrize("tier", ["A", "D", "", None])
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_it_writes_the_partials_markup(tier, language):
    with translation.override(language):
        tag = Template("{% load crm %}{% tier_badge tier %}").render(Context({"tier": tier}))
        partial = render_to_string("partials/tier_badge.html", {"tier": tier})
    assert parse_html(tag) == parse_html(partial)


def test_the_customer_list_rows_use_it(client_for, executive):
    from tests.factories import CustomerFactory

    CustomerFactory(tier="B")
    response = client_for(executive).get("/customers/")
    assert '<span class="badge tier-badge tier-B">B</span>' in response.text
    assert "partials/tier_badge.html" not in [t.name for t in response.templates]
