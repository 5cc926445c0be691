from django import template

from visits.selectors import my_overdue_visits

register = template.Library()


@register.inclusion_tag("visits/partials/home_overdue.html", takes_context=True)
def my_overdue(context, limit: int = 10) -> dict:
    """Render the signed-in user's overdue visits on the home page.

    Usage: {% load visits_tags %}{% my_overdue %}
    """
    user = context["request"].user
    visits = list(my_overdue_visits(user)[: limit + 1])
    return {
        "overdue_visits": visits[:limit],
        "more": len(visits) > limit,
        "request": context["request"],
    }
