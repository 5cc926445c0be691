"""The capped paginator: a bounded count, pages past the cap while they hold rows, deep pages
read by key; and the customer list built on it."""

from __future__ import annotations

import pytest
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.urls import reverse

from accounts.models import Customer
from accounts.pagination import CappedCountPaginator
from tests.factories import CustomerFactory


class SmallCapPaginator(CappedCountPaginator):
    count_cap = 5


@pytest.fixture
def twelve(east):
    for _ in range(12):
        CustomerFactory(department=east)
    return list(Customer.objects.order_by("-created_at", "-id"))


def paginator(per_page=3):
    return SmallCapPaginator(Customer.objects.order_by("-created_at", "-id"), per_page)


def test_the_count_stops_at_the_cap(twelve):
    pages = paginator()
    assert (pages.count, pages.count_is_capped) == (5, True)


def test_an_exact_count_below_the_cap(twelve):
    four = [customer.pk for customer in twelve[:4]]
    pages = SmallCapPaginator(Customer.objects.filter(pk__in=four).order_by("pk"), 3)
    assert (pages.count, pages.count_is_capped, pages.num_pages) == (4, False, 2)
    assert not pages.page(2).has_next()
    with pytest.raises(EmptyPage):
        pages.page(3)


def test_every_page_past_the_cap_holds_the_rows_of_plain_slicing(twelve, django_assert_num_queries):
    pages = paginator()
    pages.count  # noqa: B018 - counted once, not per page
    seen = []
    for number in range(1, 5):
        # The first keys are listed once; a page past them reads its own keys.
        with django_assert_num_queries(1 if number < 2 else 2):
            page = pages.page(number)
        assert list(page) == twelve[(number - 1) * 3 : number * 3]
        assert page.has_previous() == (number > 1)
        assert page.has_next() == (number < 4)
        assert page.start_index() == (number - 1) * 3 + 1
        assert page.end_index() == number * 3
        seen += page
    assert seen == twelve


def test_next_and_previous_numbers_past_the_cap(twelve):
    page = paginator().page(3)
    assert (page.previous_page_number(), page.next_page_number()) == (2, 4)


@pytest.mark.parametrize(
    ("number", "error"),
    [
        ("abc", PageNotAnInteger),
        ("1.5", PageNotAnInteger),
        (0, EmptyPage),
        (-1, EmptyPage),
        (5, EmptyPage),
        (10**9, EmptyPage),
    ],
)
def test_a_page_that_is_no_page(twelve, number, error):
    with pytest.raises(error):
        paginator().page(number)


def test_an_empty_list_has_an_empty_first_page(db):
    page = paginator().page(1)
    assert (len(page), page.has_next(), page.paginator.count) == (0, False, 0)
    nothing = SmallCapPaginator(Customer.objects.none(), 3).page(1)
    assert (len(nothing), nothing.paginator.count) == (0, 0)


@pytest.fixture
def small_cap(monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "count_cap", 5)


def get_list(client, **params):
    return client.get(reverse("accounts:customer_list"), {"per_page": 25, **params})


def test_the_list_says_more_than_the_cap_and_offers_no_last_page(
    small_cap, client_for, executive, east, django_assert_max_num_queries
):
    for _ in range(30):
        CustomerFactory(department=east)
    client = client_for(executive)
    with django_assert_max_num_queries(12):
        response = get_list(client)
    text = response.content.decode()
    assert "More than 5 customers" in text or "超过 5 个客户" in text
    assert "page=2" in text
    assert "Last" not in text and "末页" not in text
    with django_assert_max_num_queries(12):
        second = get_list(client, page=2)
    assert len(second.context["customers"]) == 5
    assert not second.context["page_obj"].has_next()
    assert {c.pk for c in response.context["customers"]}.isdisjoint(
        c.pk for c in second.context["customers"]
    )


@pytest.mark.parametrize("page", ["3", "999999", "abc", "-1", "0"])
def test_a_page_past_the_end_is_a_clear_404(small_cap, client_for, executive, east, page):
    for _ in range(30):
        CustomerFactory(department=east)
    response = get_list(client_for(executive), page=page)
    assert response.status_code == 404


def test_under_the_cap_the_list_shows_the_exact_count_and_the_last_page(
    client_for, executive, east
):
    for _ in range(30):
        CustomerFactory(department=east)
    response = get_list(client_for(executive))
    assert response.context["paginator"].count == 30
    assert "page=2" in response.content.decode()
    assert response.context["page_obj"].paginator.num_pages == 2


@pytest.mark.parametrize("ordering", ["name", "-name", "score", "-tier", "status", "created"])
def test_pages_of_a_sorted_list_neither_repeat_nor_skip(
    small_cap, client_for, executive, east, ordering
):
    for index in range(60):
        # Equal names, scores and tiers: only the id tells the rows apart.
        CustomerFactory(department=east, name=f"同名公司{index % 2}", tier="B", score=50)
    client = client_for(executive)
    seen = []
    for page in (1, 2, 3):
        seen += [c.pk for c in get_list(client, ordering=ordering, page=page).context["customers"]]
    assert get_list(client, ordering=ordering, page=4).status_code == 404
    assert sorted(seen) == sorted(Customer.objects.values_list("pk", flat=True))
