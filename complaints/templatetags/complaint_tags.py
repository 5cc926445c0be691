from django import template
from django.utils import timezone

from complaints.deadlines import describe_time_left

register = template.Library()


@register.inclusion_tag("complaints/partials/time_left.html")
def time_left(due):
    """Show the time left to a deadline, red once it has passed."""
    if due is None:
        return {"due": None}
    left = due - timezone.now()
    hours = left.total_seconds() / 3600
    css = "bg-danger" if hours < 0 else "bg-warning text-dark" if hours < 4 else "bg-success"
    return {"due": due, "text": describe_time_left(left), "css": css}
