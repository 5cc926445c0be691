"""The tier_badge tag: every page shows a tier with the same markup."""

import pytest
from django.template import Context, Template
from django.test.html import parse_html
from django.utils import translation


@pytest.mark.parametrize(
    ("tier", "language", "markup"),
    [
        ("A", "zh-hans", '<span class="badge tier-badge tier-A">A</span>'),
        ("D", "en", '<span class="badge tier-badge tier-D">D</span>'),
        ("", "zh-hans", '<span class="text-muted" title="尚未评级">–</span>'),
        (None, "en", '<span class="text-muted" title="Not graded yet">–</span>'),
        ("<b>", "en", '<span class="badge tier-badge tier-&lt;b&gt;">&lt;b&gt;</span>'),
    ],
)
def test_it_writes_the_badge(tier, language, markup):
    with translation.override(language):
        tag = Template("{% load crm %}{% tier_badge tier %}").render(Context({"tier": tier}))
    assert parse_html(tag) == parse_html(markup)


def test_the_customer_list_and_detail_use_it(client_for, executive):
    from tests.factories import CustomerFactory

    customer = CustomerFactory(tier="B")
    for url in ("/customers/", f"/customers/{customer.pk}/"):
        response = client_for(executive).get(url)
        assert '<span class="badge tier-badge tier-B">B</span>' in response.text
