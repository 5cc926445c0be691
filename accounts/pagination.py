"""A paginator for long lists: a bounded count, and deep pages that skip rows through an index."""

from __future__ import annotations

from django.core.paginator import EmptyPage, Page, Paginator
from django.utils.functional import cached_property


class CappedPage(Page):
    def __init__(self, object_list, number, paginator, *, has_next: bool):
        super().__init__(object_list, number, paginator)
        self._has_next = has_next

    def has_next(self) -> bool:
        return self._has_next

    def end_index(self) -> int:
        return self.start_index() + len(self) - 1 if len(self) else 0


class CappedCountPaginator(Paginator):
    """Count at most `count_cap` rows, and let the pages past the cap exist while they hold rows.

    The object list is an ordered, unsliced QuerySet with a total order (ending in the key).

    Counting every matching row on every page costs a scan of the whole match (PostgreSQL wiki
    "Slow Counting"); past `count_cap` the list says "more than N" instead. A page deeper than
    `key_first_offset` rows first reads only the primary keys in list order, which the ordering's
    index serves without touching the table, then fetches that page's rows by key.
    """

    count_cap = 10_000
    key_first_offset = 1_000

    @cached_property
    def _bounded_count(self) -> int:
        # Without ORDER BY the database counts through whichever index is cheapest.
        return self.object_list.order_by()[: self.count_cap + 1].count()

    @cached_property
    def count(self) -> int:
        return min(self._bounded_count, self.count_cap)

    @property
    def count_is_capped(self) -> bool:
        return self._bounded_count > self.count_cap

    def validate_number(self, number) -> int:
        try:
            return super().validate_number(number)
        except EmptyPage:
            # Past the cap the page count is unknown: page() finds out whether it holds rows.
            if self.count_is_capped and int(number) > self.num_pages:
                return int(number)
            raise

    def page(self, number) -> CappedPage:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        # One row more than the page tells whether a next page exists, without a count.
        rows = self._rows(bottom, bottom + self.per_page + 1)
        if not rows and number > 1:
            raise EmptyPage(self.error_messages["no_results"])
        return CappedPage(rows[: self.per_page], number, self, has_next=len(rows) > self.per_page)

    def _rows(self, bottom: int, top: int) -> list:
        if bottom < self.key_first_offset:
            return list(self.object_list[bottom:top])
        keys = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        by_key = self.object_list.order_by().in_bulk(keys)
        return [by_key[key] for key in keys if key in by_key]
