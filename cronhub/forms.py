"""Admin forms and the project's errors: a refusal shows on the field it names."""

from __future__ import annotations

from django import forms

from cronhub.errors import CronhubError


def add_domain_error(form: forms.BaseForm, error: CronhubError) -> None:
    """Put ``error`` on its field when the form shows that field, else at the top of the form,
    in the page's language."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.localized())
