from __future__ import annotations

from django import forms

from customers.models import Customer
from portal.forms import BoundedTextMixin
from portal.i18n import LANGUAGE_CHOICES


class CustomerForm(BoundedTextMixin, forms.ModelForm):
    class Meta:
        model = Customer
        fields = [
            "name",
            "email",
            "company",
            "address_line1",
            "address_line2",
            "city",
            "postal_code",
            "state",
            "country",
            "tax_id",
            "language",
        ]
        widgets = {"country": forms.TextInput(attrs={"size": 2, "autocomplete": "country"})}

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", "The business's default"), *LANGUAGE_CHOICES]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Enter the customer's name.")
        return name

    def clean_country(self) -> str:
        country = self.cleaned_data["country"].strip().upper()
        if country and (len(country) != 2 or not country.isalpha()):
            raise forms.ValidationError("Use the two-letter ISO code, e.g. US or DE.")
        return country
