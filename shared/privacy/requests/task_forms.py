"""The forms both sites use to resolve a recipient task (the console's request page and the school
admin's), and ``recipient_task_post``, which reads one posted form and calls the service: a bad
form or a refusal is a ValidationError with a clear message, and nothing is written."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from shared import clock
from shared.changes import Actor
from shared.dates import PastDateTimeField
from shared.privacy.models import RecipientTask
from shared.privacy.requests.recipient_tasks import access_recipient_task, recipient_task_close, recipient_task_done

ACTIONS = ("task_done", "task_close")


class TaskDoneForm(forms.Form):
    told_at = PastDateTimeField(label="Told at", initial=lambda: clock.now().replace(second=0, microsecond=0))
    told_how = forms.ChoiceField(choices=[("", "Choose…"), *RecipientTask.Method.choices], label="How")
    evidence = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, label="Evidence",
                               help_text="Where the message, and any reply, is kept")


class TaskCloseForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000,
                             label="Why they are not told",
                             help_text="e.g. they confirmed they hold no copy; telling them proved impossible")


def _form_errors(form: forms.Form) -> ValidationError:
    return ValidationError([f"{form.fields[name].label if name in form.fields else ''}: {' '.join(errors)}".lstrip(": ")
                            for name, errors in form.errors.items()])


def recipient_task_post(*, actor: Actor, request, data) -> str:
    """Resolve the task ``data["task"]`` of ``request`` as posted (``data["action"]`` is one of
    ``ACTIONS``); returns the message to show. Http404 for a task not the request's."""
    task = access_recipient_task(request, data.get("task", ""))
    if data.get("action") == "task_done":
        form = TaskDoneForm(data)
        if not form.is_valid():
            raise _form_errors(form)
        recipient_task_done(actor=actor, task=task, **form.cleaned_data)
        return f"Task #{task.pk} done: {task.recipient_name} told."
    form = TaskCloseForm(data)
    if not form.is_valid():
        raise _form_errors(form)
    recipient_task_close(actor=actor, task=task, reason=form.cleaned_data["reason"])
    return f"Task #{task.pk} closed: {task.recipient_name} will not be told."
