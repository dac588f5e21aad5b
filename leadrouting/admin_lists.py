"""Admin lists that stay fast on a year of data: a count that stops early, and a lead search on indexed columns only.

A plain admin list counts every row twice per page (the page count and the "N total" of a search)
and searches `%word%` in every listed column, joins included: seconds on a million rows.
"""

from django.contrib import messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.views.main import ORDER_VAR, PAGE_VAR, ChangeList
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leadrouting.pagination import CappedCountPaginator
from leads.models import Lead
from leads.selectors import MIN_SEARCH_WORD, lead_search_q


class ShownColumnsChangeList(ChangeList):
    """A list page that reads only the columns its rows show (the admin's `list_columns`), when it names them."""

    def get_queryset(self, request, exclude_parameters=None):
        queryset = super().get_queryset(request, exclude_parameters)
        columns = self.model_admin.list_columns
        return queryset.only(*columns) if columns else queryset


# Query parameters of an admin list that neither filter nor search it: the page and the sort order.
LIST_PAGE_PARAMETERS = {PAGE_VAR, ORDER_VAR}


class LargeListMixin:
    """A list of a table that grows without end: a capped count, and no second full count for a search's total."""

    paginator = CappedCountPaginator
    show_full_result_count = False
    # The columns list_display shows, its related rows' included (Lead.__str__'s, Rep.name's). Whole rows (a
    # decision's 1.7 kB trace, the lead's every column) were 30 % of the decisions list's Python time, never shown.
    # A column missing here costs a query per row (tests/test_admin_lists.py counts them); None reads whole rows.
    list_columns = None
    count_order = ()  # see CappedCountPaginator.count_order

    def get_changelist(self, request, **kwargs):
        return ShownColumnsChangeList

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        paginator = super().get_paginator(request, queryset, per_page, orphans, allow_empty_first_page)
        # Only for the list as it opens (a manager's scope, no filter): a date range or a search is counted
        # faster from its own index, and a recent date range would sit at the far end of `count_order`.
        if not set(request.GET) - LIST_PAGE_PARAMETERS:
            paginator.count_order = self.count_order
        return paginator

    def action_checkbox(self, obj):
        # Django's renders a form widget's template for each row: a tenth of a 100-row page's time. The same HTML.
        return format_html('<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
                           ACTION_CHECKBOX_NAME, str(obj.pk),
                           format_html(_("Select this object for an action - {}"), str(obj)))


class LeadSearchMixin:
    """The search of a list of leads, or of rows that belong to a lead (`lead_field`), on the lead's indexed columns."""

    lead_field = None  # the foreign key to the lead; None when the list is of leads
    search_help_text = gettext_lazy(
        "Finds the lead by its id (a number), or by words of 3 characters or more in its email, name or company."
    )

    def get_search_fields(self, request):
        # Drawn as the search box; get_search_results below does the searching.
        path = f"{self.lead_field}__" if self.lead_field else ""
        return [f"={path}id", f"{path}email", f"{path}first_name", f"{path}last_name", f"{path}company"]

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        found = lead_search_q(search_term)
        if found is None:
            self.message_user(request, _("Search for words of %(count)d characters or more, or for a lead's id.")
                              % {"count": MIN_SEARCH_WORD}, messages.WARNING)
            return queryset.none(), False
        if self.lead_field is None:
            return queryset.filter(found), False
        return queryset.filter(**{f"{self.lead_field}__in": Lead.objects.filter(found)}), False
