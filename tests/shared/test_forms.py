"""A service's refusal lands on the form, whether it names fields or not."""

from django import forms
from django.core.exceptions import ValidationError

from shared.forms import service_errors_to_form


class Form(forms.Form):
    title = forms.CharField()


def test_field_errors_go_on_their_field_and_the_rest_above_the_form():
    form = Form({"title": "x"})
    assert form.is_valid()
    service_errors_to_form(form, ValidationError({"title": "Too short.", "other": "Not here."}))
    assert form.errors["title"] == ["Too short."] and form.non_field_errors() == ["Not here."]


def test_a_plain_message_goes_above_the_form():
    form = Form({"title": "x"})
    assert form.is_valid()
    service_errors_to_form(form, ValidationError("A consent is given by one pupil or one parent."))
    assert form.non_field_errors() == ["A consent is given by one pupil or one parent."]
