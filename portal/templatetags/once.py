from __future__ import annotations

from django import template
from django.utils.html import format_html

from portal.once import FIELD, new_token

register = template.Library()


@register.simple_tag
def form_token() -> str:
    """A hidden one-time token: the POST that carries it twice acts once."""
    return format_html('<input type="hidden" name="{}" value="{}">', FIELD, new_token())
