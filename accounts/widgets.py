"""Form widgets of our own."""

from __future__ import annotations

from django import forms
from django.forms.utils import flatatt
from django.utils.html import escape
from django.utils.safestring import mark_safe


class PlainSelect(forms.Select):
    """A single <select> whose options are written in Python rather than one template each.

    Django renders every option through its own template: with the six hundred managers of a
    company at scale, that was most of the customer list's rendering time. Same markup.
    """

    def render(self, name, value, attrs=None, renderer=None):
        wanted = set(self.format_value(value))
        found = False

        def option(option_value, label) -> str:
            nonlocal found
            text = "" if option_value is None else str(option_value)
            selected = not found and text in wanted
            found = found or selected
            mark = " selected" if selected else ""
            return f'<option value="{escape(text)}"{mark}>{escape(label)}</option>'

        parts = []
        for option_value, label in self.choices:
            if isinstance(label, (list, tuple)):
                grouped = "".join(option(v, sub_label) for v, sub_label in label)
                parts.append(f'<optgroup label="{escape(option_value)}">{grouped}</optgroup>')
            else:
                parts.append(option(option_value, label))
        final_attrs = self.build_attrs(self.attrs, attrs)
        return mark_safe(  # noqa: S308 - every value and label above went through escape()
            f'<select name="{escape(name)}"{flatatt(final_attrs)}>{"".join(parts)}</select>'
        )
