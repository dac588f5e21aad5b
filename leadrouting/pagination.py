"""Pages through lists that grow without end (a year of leads, decisions, moves): a count that stops early.

An exact count of a million rows reads them all, on every page; these lists count up to a cap and say
"more than N" (or PostgreSQL's own estimate of the table) past it. The admin's big lists
(`leadrouting.admin_lists`) and the reassignment log page use it.
"""

from django.core.paginator import Paginator
from django.db import connections
from django.utils import formats
from django.utils.functional import cached_property
from django.utils.translation import gettext as _


class CappedCountPaginator(Paginator):
    """Counts at most COUNT_CAP rows and pages through those; a list without filter shows the table's estimated size.

    The estimate is PostgreSQL's own (pg_class.reltuples, kept by autovacuum): exact enough to
    say how big the list is, free to read. Rows past the cap are reached by a filter or a search.
    """

    COUNT_CAP = 10_000
    # The order the capped count reads rows in (a list admin's `count_order`). Any order counts the same up to the
    # cap; one that a covering index of the table holds, with the columns the list's filters test, lets PostgreSQL
    # count from that index alone instead of the rows (a decision's row carries 2 kB of trace).
    count_order = ()

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by(*self.count_order)[: self.COUNT_CAP + 1].count()

    @property
    def count_is_capped(self) -> bool:
        return self.count > self.COUNT_CAP

    @cached_property
    def estimated_total(self) -> int | None:
        """The table's estimated rows when the list shows all of them (no filter, no search, no scope); else None."""
        connection = connections[self.object_list.db]
        if self.object_list.query.where or connection.vendor != "postgresql":
            return None
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                           [self.object_list.model._meta.db_table])
            (estimate,) = cursor.fetchone()
        return estimate if estimate > self.COUNT_CAP else None

    @property
    def count_shown(self) -> str:
        """The count in the list's footer: exact, "about N" (estimated), or "more than N"."""
        if not self.count_is_capped:
            return formats.number_format(self.count, force_grouping=True)
        if self.estimated_total is not None:
            return _("about %(count)s") % {"count": formats.number_format(self.estimated_total, force_grouping=True)}
        return _("more than %(count)s") % {"count": formats.number_format(self.COUNT_CAP, force_grouping=True)}
