"""School-site forms: they parse and check the shape of input; the services check the rules."""

from __future__ import annotations

import re

from django import forms

from shared import clock, dates
from shared.dates import DATE_INPUT, PastDateField
from shared.privacy.requests.deadlines import MAX_EXTENSION_MONTHS
from shared.query import parse_id
from tenants.assessment.models import AssessmentPoint, Subject
from tenants.pupils import selectors as pupils
from tenants.pupils.models import Group, ParentCarer, Pupil
from tenants.rights import services as rights
from tenants.rights.models import SchoolRequest
from tenants.users.models import User

SORTS = ("name", "-name", "year", "-year", "progress", "-progress")


class _ListedChoiceIterator(forms.models.ModelChoiceIterator):
    """Choices read with one plain query. Django's own iterates with ``queryset.iterator()``, a
    server-side cursor on PostgreSQL: three round trips (DECLARE, FETCH, CLOSE) for a short list."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset.all():
            yield self.choice(obj)


class ListedModelChoiceField(forms.ModelChoiceField):
    iterator = _ListedChoiceIterator


class PupilFilterForm(forms.Form):
    # Labelled for screen readers (the filter bar's labels are hidden); the placeholder and the first
    # choices say the same on screen.
    q = forms.CharField(required=False, label="Name", widget=forms.TextInput(attrs={"placeholder": "Name"}))
    year = forms.ChoiceField(required=False)
    group = ListedModelChoiceField(queryset=Group.objects.none(), required=False, empty_label="Any group")
    characteristic = forms.ChoiceField(required=False, choices=[
        ("", "Any pupil"), ("disadvantaged", "Disadvantaged"), ("not_disadvantaged", "Not disadvantaged"),
        ("fsm", "Free school meals"), ("sen", "SEN"), ("ehcp", "EHC plan"), ("eal", "EAL"),
        ("looked_after", "Looked after"), ("service_child", "Service child"),
    ])

    subject = forms.TypedChoiceField(required=False, label="Progress in", coerce=int, empty_value=None)
    progress = forms.ChoiceField(required=False, label="Progress", choices=[
        ("", "Any progress"), ("below", "Below the flight path"), ("on", "On track"), ("above", "Above"),
        ("unknown", "Not enough data")])
    sort = forms.ChoiceField(required=False, choices=[(k, k) for k in SORTS])

    def __init__(self, *args, user, subjects=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [("", "Any year"), *((y, y) for y in pupils.year_groups())]
        self.fields["group"].queryset = pupils.groups_visible_to(user)
        self.fields["subject"].choices = [("", "Overall"), *((str(s.pk), s.name) for s in subjects)]
        for name, label in (("q", "Name"), ("year", "Year"), ("group", "Group"), ("characteristic", "Characteristic")):
            self.fields[name].label = label


class InviteForm(forms.Form):
    email = forms.EmailField()
    full_name = forms.CharField(max_length=200, label="Name")
    role = forms.ChoiceField(choices=User.Role.choices, initial=User.Role.TEACHER)  # not admin unless chosen
    parent_carer = forms.ModelChoiceField(queryset=ParentCarer.objects.none(), required=False,
                                          label="Parent or carer record (for a parent)")
    pupil = forms.ModelChoiceField(queryset=Pupil.objects.none(), required=False, label="Pupil record (for a pupil)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent_carer"].queryset = ParentCarer.objects.filter(user__isnull=True)
        self.fields["pupil"].queryset = Pupil.objects.filter(user__isnull=True, on_roll=True)


class GraceForm(forms.Form):
    grace_months = forms.IntegerField(min_value=0, max_value=120, label="Months after a pupil leaves",
                                      help_text="Their records are deleted this long after their leaving date.")


class BrandingForm(forms.Form):
    accent_colour = forms.CharField(max_length=7, label="Accent colour", widget=forms.TextInput(attrs={"type": "color"}))
    logo = forms.FileField(required=False, label="Logo", help_text="PNG, JPEG or GIF, at most 512 KB.")
    remove_logo = forms.BooleanField(required=False, label="Remove the current logo")


class DocumentForm(forms.Form):
    title = forms.CharField(max_length=200)
    file = forms.FileField(help_text="PDF, Office or OpenDocument, image, text or CSV; at most 10 MB.")


class SignInPolicyForm(forms.Form):
    staff_second_factor_required = forms.BooleanField(
        required=False, label="Require two-step sign-in for all staff",
        help_text="Teachers then set up an authenticator app at their next sign-in. School admins always need one.")


class XporterSettingsForm(forms.Form):
    """The school's Xporter on Demand connection: its establishment number and the secret Groupcall
    issued when the school authorised the product (the application id is the product's own)."""

    estab = forms.CharField(max_length=7, label="Establishment number",
                            help_text="7 digits: the local authority's number and the school's, for example 3281102.")
    secret = forms.CharField(max_length=200, required=False, label="School secret",
                             widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
                             help_text="From Groupcall, when the school authorised the product. Once saved it is "
                                       "never shown again; leave blank to keep the saved one.")


# --- Subject requests and consents

SUBJECT_TYPES = {"pupil": Pupil, "parent": ParentCarer, "user": User}


def subject_choices():
    """Everyone a request may be about, as choices whose values ``subject_chosen`` reads back."""
    return ([("", "— choose —")]
            + [(f"pupil:{pk}", f"Pupil: {forename} {surname}") for pk, forename, surname
               in Pupil.objects.values_list("pk", "forename", "surname")]
            + [(f"parent:{pk}", f"Parent/carer: {forename} {surname}") for pk, forename, surname
               in ParentCarer.objects.values_list("pk", "forename", "surname")]
            + [(f"user:{pk}", f"Site user: {email}") for pk, email in User.objects.values_list("pk", "email")])


def subject_chosen(value: str):
    """The pupil, parent or user a ``subject_choices`` value names, or None."""
    kind, _, pk = (value or "").partition(":")
    model = SUBJECT_TYPES.get(kind)
    return model.objects.filter(pk=pk).first() if model and pk.isdigit() else None


class RequestForm(forms.Form):
    kind = forms.ChoiceField(choices=SchoolRequest.Kind.choices, label="Right")
    subject = forms.ChoiceField(label="About")
    requester_name = forms.CharField(max_length=200, label="Asked by")
    requester_email = forms.EmailField(required=False, label="Their email")
    received_on = PastDateField(initial=clock.today)
    details = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subject"].choices = subject_choices()


class ExtendForm(forms.Form):
    months = forms.IntegerField(min_value=1, max_value=MAX_EXTENSION_MONTHS)
    reason = forms.CharField(max_length=300)
    told_on = PastDateField(label="Person told on")


class CorrectionForm(forms.Form):
    def __init__(self, subject, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in rights.CORRECTABLE[type(subject)]:
            field = type(subject)._meta.get_field(name).formfield()
            if isinstance(field, forms.DateField):
                field.widget = DATE_INPUT
                field.validators.append(dates.BIRTH if name == "date_of_birth" else dates.PLANNED)
            field.initial = getattr(subject, name)
            self.fields[name] = field


class ConsentForm(forms.Form):
    subject = forms.ChoiceField(label="Given by")
    purpose = forms.CharField(max_length=200, help_text="What it is for, e.g. photographs on reports")
    given_on = PastDateField(initial=clock.today)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subject"].choices = [c for c in subject_choices() if not c[0].startswith("user:")]


class RecipientHoldingForm(forms.Form):
    """Whom the school exported or disclosed a person's data to: one of its recipients, or a new one."""

    subject = forms.ChoiceField(label="Whose data")
    recipient = forms.ChoiceField(label="Given to", required=False)
    name = forms.CharField(max_length=200, required=False, label="New recipient: organisation")
    contact = forms.CharField(max_length=200, required=False, label="New recipient: person or role there")
    how_to_reach = forms.CharField(max_length=500, required=False, label="New recipient: how to reach them",
                                   help_text="Email, address or telephone")
    what = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, label="What they received")
    received_on = PastDateField(required=False, label="When")

    def __init__(self, *args, recipients=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subject"].choices = subject_choices()
        self.fields["recipient"].choices = [("", "— a new recipient (below) —"),
                                            *((str(r.pk), r.name) for r in recipients)]

    def clean(self):
        data = super().clean()
        if not data.get("recipient") and not (data.get("name", "").strip() and data.get("how_to_reach", "").strip()):
            raise forms.ValidationError("Choose a recipient, or name a new one and say how to reach them.")
        return data


# --- Support access

class RefuseForm(forms.Form):
    refusal_reason = forms.CharField(max_length=500, required=False, label="Reason (the operator sees it)")


# --- Signing in

class CodeForm(forms.Form):
    code = forms.CharField(label="Code", max_length=16,
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
                           help_text="The 6-digit code from your authenticator app, or one of your recovery codes.")


class EnrolForm(forms.Form):
    code = forms.CharField(label="Code", max_length=8,
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
                           help_text="The 6-digit code the app shows for this account.")


class AssessmentPointForm(forms.Form):
    """An assessment point's name and date (the calendar services check clashes and locks)."""

    name = forms.CharField(max_length=60, label="Name", help_text="For example “Autumn 2026”.")
    date = dates.PlannedDateField(label="Date", help_text="Results dated up to this day count towards it.")


class StandardsForm(forms.Form):
    """Which grade of a grade set starts the expected standard, and which greater depth."""

    expected_from = forms.ModelChoiceField(queryset=None, required=False, label="Expected standard from",
                                           empty_label="Not set")
    greater_depth_from = forms.ModelChoiceField(queryset=None, required=False, label="Greater depth from",
                                                empty_label="Not set")

    def __init__(self, *args, grade_set, **kwargs):
        super().__init__(*args, **kwargs)
        self.grade_set = grade_set
        for name in ("expected_from", "greater_depth_from"):
            self.fields[name].queryset = grade_set.grades.all()


class ResultsFileForm(forms.Form):
    file = forms.FileField(label="CSV file", help_text="Saved from a spreadsheet as CSV UTF-8, with a header row; "
                                                       "at most 2 MB and 5,000 rows.")


class ResultsMappingForm(forms.Form):
    """Which column of a staged CSV file holds what, which aspect the results are of, and how they
    are dated (a date column, or an assessment point)."""

    pupil_by = forms.ChoiceField(label="The file names each pupil by", choices=())
    pupil = forms.TypedChoiceField(label="Column naming the pupil (UPN, pupil id or full name)", coerce=int)
    birth = forms.TypedChoiceField(label="Date-of-birth column (with a name)", coerce=int, required=False,
                                   empty_value=None)
    grade = forms.TypedChoiceField(label="Grade or score column", coerce=int)
    date = forms.TypedChoiceField(label="Date column", coerce=int, required=False, empty_value=None,
                                  help_text="Or leave it and choose an assessment point below.")
    point = forms.ModelChoiceField(queryset=None, required=False, label="Date every result at the assessment point",
                                   empty_label="No: the file has a date column")
    aspect = forms.ModelChoiceField(queryset=None, required=False, label="The results are of", empty_label="Choose…")
    aspect_subject = forms.ModelChoiceField(queryset=None, required=False, label="Or a new aspect of the subject",
                                            empty_label="No new aspect")
    aspect_name = forms.CharField(max_length=80, required=False, label="New aspect's name",
                                  help_text="For example “Spring reading test”.")
    aspect_grade_set = forms.ModelChoiceField(queryset=None, required=False, label="New aspect's grades",
                                              empty_label="Standardised scores (69–141)")

    def __init__(self, *args, header: list[str], user, **kwargs):
        from tenants.assessment.models import Aspect, AssessmentPoint, GradeSet, Subject
        from tenants.assessment.uploads import PUPIL_BY

        super().__init__(*args, **kwargs)
        columns = [(str(i), f"{i + 1}: {name[:40] or '(no name)'}") for i, name in enumerate(header)]
        self.fields["pupil_by"].choices = list(PUPIL_BY.items())
        for name in ("pupil", "grade"):
            self.fields[name].choices = [("", "Choose…"), *columns]
        for name in ("birth", "date"):
            self.fields[name].choices = [("", "None"), *columns]
        self.fields["point"].queryset = AssessmentPoint.objects.all()
        self.fields["aspect"].queryset = Aspect.objects.select_related("subject")
        self.fields["aspect_subject"].queryset = Subject.objects.all()
        self.fields["aspect_grade_set"].queryset = GradeSet.objects.all()
        if user.role != User.Role.SCHOOL_ADMIN:  # only a school admin adds aspects
            for name in ("aspect_subject", "aspect_name", "aspect_grade_set"):
                del self.fields[name]

    def clean(self):
        data = super().clean()
        if data.get("aspect_subject") and data.get("aspect"):
            raise forms.ValidationError("Choose an aspect or a new one, not both.")
        if data.get("aspect_subject") and not data.get("aspect_name"):
            self.add_error("aspect_name", "Give the new aspect a name.")
        if not data.get("aspect_subject") and not data.get("aspect"):
            self.add_error("aspect", "Choose the aspect the results are of.")
        return data
# --- Cohort analysis

def _natural(label: str) -> tuple:
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", label))


def _with_defaults(data, defaults: dict):
    """``data`` (a QueryDict) with each absent or blank key set to its default, so that the form
    shows what the page is showing."""
    data = data.copy()
    for key, value in defaults.items():
        if not data.get(key) and value is not None:
            data[key] = str(value)
    return data


class _PointChoice(forms.ModelChoiceField):
    def label_from_instance(self, point):
        return f"{point.name} ({point.date:%-d %b %Y})"


class AnalysisForm(forms.Form):
    """The cohort page's choice: a subject, an assessment point and the point it is compared with,
    and optionally one year group. Blank choices take the page's defaults (``defaults``)."""

    subject = forms.ModelChoiceField(queryset=None, empty_label=None, label="Subject")
    point = _PointChoice(queryset=None, empty_label=None, label="Assessment point")
    compare = _PointChoice(queryset=None, empty_label=None, label="Compared with")
    year = forms.ChoiceField(required=False, label="Year group")

    def __init__(self, data, *, defaults: dict, **kwargs):
        super().__init__(_with_defaults(data, defaults), **kwargs)
        self.fields["subject"].queryset = Subject.objects.all()
        for name in ("point", "compare"):
            self.fields[name].queryset = AssessmentPoint.objects.all()
        self.fields["year"].choices = [("", "Every year"), *((y, y) for y in sorted(pupils.year_groups(), key=_natural))]


class TransitionForm(AnalysisForm):
    """The transition matrix's choice: ``compare`` is the earlier point (rows), ``point`` the later
    one (columns)."""

    compare = _PointChoice(queryset=None, empty_label=None, label="From (rows)")
    point = _PointChoice(queryset=None, empty_label=None, label="To (columns)")
    field_order = ["subject", "year", "compare", "point"]


def grade_choice(value: str | None) -> int | None:
    """A transition cell's grade in a query string: a grade id, or "none" for no result."""
    if value in (None, "", "none"):
        return None
    return parse_id(value, "grade")
