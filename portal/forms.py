"""What every staff form shares."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import MaxLengthValidator

# The longest text any field takes (a memo, an address): a model's TextField
# has no limit of its own, and a megabyte of memo helps no one.
MAX_TEXT_LENGTH = 5000


class BoundedTextMixin:
    """Gives every text field without a `max_length` the portal-wide one.

    Django's CharField already refuses NUL characters; with this every text
    field is also bounded, including fields added later.
    """

    fields: dict[str, forms.Field]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.CharField) and field.max_length is None:
                field.max_length = MAX_TEXT_LENGTH
                field.validators.append(MaxLengthValidator(MAX_TEXT_LENGTH))
                field.widget.attrs.setdefault("maxlength", str(MAX_TEXT_LENGTH))
