"""A paginator for long lists: a bounded count, pages read by key through the ordering's index."""

from __future__ import annotations

from django.core.exceptions import EmptyResultSet
from django.core.paginator import EmptyPage, Page, Paginator
from django.db import connections
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
    "Slow Counting"). Instead one query lists the keys of the first `count_cap` + 1 rows in list
    order, mostly from the ordering's index: their number is the count ("more than N" past the
    cap), and a page among them takes its keys from that list. A page past them reads its keys
    with an OFFSET over the same index. The page's rows are then fetched by key alone, so that
    an expensive filter (a search) runs once per page, not twice.
    """

    count_cap = 10_000

    @cached_property
    def _first_keys(self) -> list:
        keys = self.object_list.values_list("pk", flat=True)[: self.count_cap + 1]
        try:
            sql, params = keys.query.get_compiler(using=keys.db).as_sql()
        except EmptyResultSet:
            return []
        # Up to ten thousand keys: read from the cursor, without the ORM's work per row
        # (about a third of the time).
        with connections[keys.db].cursor() as cursor:
            cursor.execute(sql, params)
            return [row[0] for row in cursor.fetchall()]

    @cached_property
    def count(self) -> int:
        return min(len(self._first_keys), self.count_cap)

    @property
    def count_is_capped(self) -> bool:
        return len(self._first_keys) > self.count_cap

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
        # One row more than the page tells whether a next page exists.
        top = bottom + self.per_page + 1
        if top <= len(self._first_keys) or not self.count_is_capped:
            keys = self._first_keys[bottom:top]
        else:
            keys = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        if not keys and number > 1:
            raise EmptyPage(self.error_messages["no_results"])
        rows = self._rows_by_key(keys)
        return CappedPage(rows[: self.per_page], number, self, has_next=len(rows) > self.per_page)

    def _rows_by_key(self, keys: list) -> list:
        # The keys were just selected through the list's filters; fetching by key alone keeps
        # the filters from running a second time.
        rows = self.object_list.model._default_manager.filter(pk__in=keys)
        rows.query.select_related = self.object_list.query.select_related
        by_key = rows.in_bulk()
        return [by_key[key] for key in keys if key in by_key]
