"""School-site views: parse (``portal.forms``), authorise (roles in ``portal.access``, object
access in the selectors), call one selector or service, render."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy

from portal.access import STAFF, role_required
from portal.forms import BrandingForm, DocumentForm, GraceForm, InviteForm, PupilFilterForm, SignInPolicyForm
from shared import automation, clock
from shared.audit.selectors import automated_processes_for_school
from shared.forms import service_errors_to_form
from shared.query import date_param, id_param, parse_id
from tenants.assessment import charts
from tenants.assessment import selectors as assessment
from tenants.assessment.models import Aspect, Subject
from tenants.assessment.services import marksheet_save
from tenants.configuration import services as configuration
from tenants.configuration.models import Branding, SchoolDocument
from tenants.pupils import selectors as pupils
from tenants.pupils.invitations import parent_invitation_preview, parent_invitations_run, run_under_way
from tenants.pupils.models import Group, Pupil
from tenants.pupils.services import retention_grace_set
from tenants.pupils.tasks import parent_invitations_start
from tenants.users.mail import invitation_send
from tenants.users.models import User
from tenants.users.selectors import user_list
from tenants.users.services import password_reset_done, user_invitation_resend, user_invite
from tenants.xporter.history import import_summary
from tenants.xporter.models import ImportRun, XporterConnection
from tenants.xporter.parse import ImportRejected
from tenants.xporter.services import xporter_file_import
from tenants.xporter.tasks import xporter_sync_school


class SchoolLogoutView(auth_views.LogoutView):
    pass


class SetPasswordView(auth_views.PasswordResetConfirmView):
    """Follows the set-password link of an invitation (mailed; printed by ``provision_school``)."""

    template_name = "portal/set_password.html"
    success_url = reverse_lazy("set_password_done")

    def form_valid(self, form):
        with transaction.atomic():
            response = super().form_valid(form)
            password_reset_done(user=form.user)  # logged; any session of the account ends
        return response


class SetPasswordDoneView(auth_views.PasswordResetCompleteView):
    template_name = "portal/set_password_done.html"


@login_required
def home(request):
    """Staff get the dashboard; a pupil their own page; a parent their children."""
    user = request.user
    if user.role == User.Role.PUPIL:
        own = pupils.pupils_visible_to(user).first()
        if own is None:
            raise PermissionDenied("Your account is not linked to a pupil record yet.")
        return redirect("pupil_detail", pupil_id=own.pk)
    if user.role == User.Role.PARENT:
        return render(request, "portal/children.html", {"children": pupils.pupils_visible_to(user)})
    if user.role not in STAFF:
        raise PermissionDenied("Your account has no role at this school.")
    overdue = near = ()
    if user.role == User.Role.SCHOOL_ADMIN:
        from shared.privacy.requests.services import requests_due
        from tenants.rights.models import SchoolRequest

        overdue, near = requests_due(requests=SchoolRequest.objects.all())
    return render(request, "portal/dashboard.html", {
        "school": request.tenant,
        "groups": pupils.groups_visible_to(user).filter(kind=Group.Kind.TEACHING),
        # Only a school admin sees the school's accounts: a teacher has no need of parents' and pupils'
        # names and emails.
        "users": user_list() if user.role == User.Role.SCHOOL_ADMIN else None,
        "requests_overdue": overdue, "requests_near": near,
    })


@role_required(*STAFF)
def pupil_list(request):
    form = PupilFilterForm(request.GET or None, user=request.user)
    filters = {}
    if form.is_valid():
        data = form.cleaned_data
        filters = {"search": data["q"], "year": data["year"], "characteristic": data["characteristic"],
                   "group_id": data["group"].pk if data["group"] else None}
    page = Paginator(pupils.pupil_list(request.user, **filters), 50).get_page(request.GET.get("page"))
    return render(request, "portal/pupil_list.html", {"form": form, "page": page})


@login_required
def pupil_detail(request, pupil_id: int):
    pupil = pupils.access_pupil(request.user, pupil_id)
    progress = assessment.pupil_progress(pupil)
    return render(request, "portal/pupil_detail.html", {
        "pupil": pupil,
        "progress": [(p, charts.progress_chart(p)) for p in progress],
        "staff_view": request.user.role in STAFF,
        "parents": pupil.parent_links.select_related("parent") if request.user.role in STAFF else (),
    })


@login_required
def pupil_report(request, pupil_id: int):
    """A printable progress report: the same access as the pupil page."""
    pupil = pupils.access_pupil(request.user, pupil_id)
    return render(request, "portal/pupil_report.html", {
        "pupil": pupil, "progress": assessment.pupil_progress(pupil), "today": clock.today(),
    })


@role_required(*STAFF)
def marksheet(request, group_id: int):
    group = pupils.access_group(request.user, group_id)
    aspects = Aspect.objects.select_related("subject", "grade_set")
    # A malformed aspect, date, pupil or grade is a 400 before anything is read or saved.
    aspect_id = id_param(request.GET, "aspect") or id_param(request.POST, "aspect")
    aspect = get_object_or_404(aspects, pk=aspect_id or (aspects.first().pk if aspects.exists() else 0))
    recorded_on = (date_param(request.GET, "date") or date_param(request.POST, "date") or clock.today())
    if request.method == "POST":
        grades = {}
        for key, value in request.POST.items():
            if key.startswith("pupil-"):
                grades[parse_id(key.removeprefix("pupil-"), "pupil")] = parse_id(value, key) if value else None
        try:
            saved = marksheet_save(user=request.user, group=group, aspect=aspect, recorded_on=recorded_on, grades=grades)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages) + " Nothing was saved.")
        else:
            messages.success(request, f"Saved {saved} result{'s' if saved != 1 else ''} for {group.name}.")
            return redirect(f"{request.path}?aspect={aspect.pk}&date={recorded_on.isoformat()}")
    sheet = assessment.marksheet(group=group, aspect=aspect, recorded_on=recorded_on)
    return render(request, "portal/marksheet.html", {"sheet": sheet, "aspects": aspects})


@role_required(*STAFF)
def cohort_analysis(request):
    subjects = Subject.objects.all()
    subject = subjects.filter(pk=id_param(request.GET, "subject", default=0)).first() or subjects.first()
    tables = {}
    if subject is not None:
        tables = assessment.cohort_analysis(pupils=pupils.pupil_list(request.user), subject=subject)
    comparisons = [(name, rows, charts.bar_chart(rows, value="average_points"),
                    charts.bar_chart(rows, value="on_track_percent", unit="%")) for name, rows in tables.items()]
    return render(request, "portal/cohort_analysis.html", {"subjects": subjects, "subject": subject,
                                                           "comparisons": comparisons})


@role_required(User.Role.SCHOOL_ADMIN)
def users(request):
    """The school's accounts; an invitation by mail (a set-password link, never shown on screen) and
    its resending to someone who has not set a password yet."""
    form = InviteForm(request.POST if request.method == "POST" and request.POST.get("action") != "resend" else None)
    if request.method == "POST" and request.POST.get("action") == "resend":
        try:
            invited = user_invitation_resend(admin=request.user, user_id=parse_id(request.POST.get("user", ""), "user"))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            invitation_send(user=invited)
            messages.success(request, f"Invitation sent again to {invited.email}.")
        return redirect("users")
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                invited = user_invite(inviter=request.user, **form.cleaned_data)
                invitation_send(user=invited)
        except ValidationError as error:
            service_errors_to_form(form, error)
        else:
            messages.success(request, f"Invitation sent to {invited.email}. The link in it works once, for "
                                      f"{settings.PASSWORD_RESET_TIMEOUT // (24 * 3600)} days.")
            return redirect("users")
    return render(request, "portal/users.html", {"users": user_list(), "form": form})


@role_required(User.Role.SCHOOL_ADMIN)
def parent_invitations(request):
    """Invite every parent and carer with parental responsibility: the preview, then "Send", which
    queues one background job and returns at once; the page then shows the run's progress."""
    if request.method == "POST":
        try:
            run = parent_invitations_start(admin=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"Sending {run['total']} invitation{'s' if run['total'] != 1 else ''} "
                                      "in the background: this page shows how far it has got.")
        return redirect("parent_invitations")
    run = parent_invitations_run()
    return render(request, "portal/parent_invitations.html", {
        "preview": parent_invitation_preview(), "run": run,
        "under_way": run_under_way(run),
    })


@role_required(User.Role.SCHOOL_ADMIN)
def data_import(request):
    """Xporter status, an import on demand, and the upload of an Xporter-shaped JSON file."""
    if request.method == "POST" and request.POST.get("action") == "sync":
        xporter_sync_school.send()
        messages.success(request, "Import queued: it runs in the background, usually within a minute.")
        return redirect("data_import")
    if request.method == "POST" and request.FILES.get("file"):
        try:
            run = xporter_file_import(content=request.FILES["file"].read())
        except ImportRejected as error:
            messages.error(request, f"Nothing was imported: {error}")
        else:
            messages.success(request, f"Imported: {import_summary(run.counts)}.")
        return redirect("data_import")
    runs = list(ImportRun.objects.all()[:20])
    for run in runs:
        run.summary = import_summary(run.counts)
    return render(request, "portal/data_import.html", {"connection": XporterConnection.objects.first(), "runs": runs})


@role_required(User.Role.SCHOOL_ADMIN)
def retention(request):
    """The school's own retention: its grace period, what falls due in the next 90 days, and what
    has been deleted for it."""
    from orchestration.retention.collect import unit_pupil_id
    from orchestration.retention.run import retention_calendar
    from shared.privacy.models import DeletionRecord
    from tenants.pupils.models import RetentionSettings

    current = RetentionSettings.objects.first() or RetentionSettings(grace_months=RetentionSettings.DEFAULT_GRACE_MONTHS)
    form = GraceForm(request.POST or None, initial={"grace_months": current.grace_months})
    if request.method == "POST" and form.is_valid():
        retention_grace_set(user=request.user, months=form.cleaned_data["grace_months"])
        messages.success(request, "Retention period saved.")
        return redirect("retention")
    calendar = retention_calendar(as_of=clock.today(), days=90, school=request.tenant)
    due = calendar.due
    problems = calendar.unplannable  # a leaving date out of range: kept until corrected
    names = dict((p.pk, str(p)) for p in Pupil.objects.filter(pk__in=[unit_pupil_id(d.record) for d in [*due, *problems]]))
    return render(request, "portal/retention.html", {
        "form": form, "calendar": [(d, names.get(unit_pupil_id(d.record), "")) for d in due],
        "unplannable": [(u, names.get(unit_pupil_id(u.record), "")) for u in problems],
        "deletions": DeletionRecord.objects.filter(school_id=request.tenant.pk)[:50],
    })


@role_required(User.Role.SCHOOL_ADMIN)
def automated_processes(request):
    """The automated processes that read the school's data: what each does, why (the notice's
    purpose), which data, when it runs, and when it last ran for this school."""
    return render(request, "portal/automated_processes.html", {
        "processes": automated_processes_for_school(school_id=request.tenant.pk),
        "notice_sentence": automation.NOTICE_SENTENCE})


@role_required(User.Role.SCHOOL_ADMIN)
def school_settings(request):
    """Branding, how staff sign in, and the school's documents (its configuration files)."""
    branding = configuration.branding_get()
    branding_form = BrandingForm(initial={"accent_colour": branding.accent_colour})
    document_form = DocumentForm()
    policy_form = SignInPolicyForm(initial={
        "staff_second_factor_required": configuration.signin_policy_get().staff_second_factor_required})
    action = request.POST.get("action")
    if request.method == "POST" and action == "signin_policy":
        policy_form = SignInPolicyForm(request.POST)
        if policy_form.is_valid():
            configuration.signin_policy_save(
                user=request.user, staff_second_factor_required=policy_form.cleaned_data["staff_second_factor_required"])
            messages.success(request, "Sign-in settings saved.")
            return redirect("school_settings")
    elif request.method == "POST" and action == "branding":
        branding_form = BrandingForm(request.POST, request.FILES)
        if branding_form.is_valid():
            try:
                configuration.branding_save(user=request.user, accent_colour=branding_form.cleaned_data["accent_colour"],
                                            logo=branding_form.cleaned_data["logo"],
                                            remove_logo=branding_form.cleaned_data["remove_logo"])
            except ValidationError as error:
                service_errors_to_form(branding_form, error)
            else:
                messages.success(request, "Branding saved.")
                return redirect("school_settings")
    elif request.method == "POST" and action == "document":
        document_form = DocumentForm(request.POST, request.FILES)
        if document_form.is_valid():
            try:
                configuration.document_upload(user=request.user, title=document_form.cleaned_data["title"],
                                              upload=document_form.cleaned_data["file"])
            except ValidationError as error:
                service_errors_to_form(document_form, error)
            else:
                messages.success(request, "Document uploaded.")
                return redirect("school_settings")
    elif request.method == "POST" and action == "delete":
        document = get_object_or_404(SchoolDocument, pk=id_param(request.POST, "document", default=0))
        configuration.document_delete(user=request.user, document=document)
        messages.success(request, f"“{document.title}” deleted.")
        return redirect("school_settings")
    return render(request, "portal/settings.html", {
        "branding": branding, "branding_form": branding_form, "document_form": document_form, "policy_form": policy_form,
        "documents": SchoolDocument.objects.select_related("uploaded_by"),
    })


@role_required(*STAFF)
def document_download(request, document_id: int):
    document = get_object_or_404(SchoolDocument, pk=document_id)
    return FileResponse(document.file.open("rb"), as_attachment=True, filename=document.original_name,
                        content_type=document.content_type)


def branding_logo(request):
    """The school's logo, shown on its pages (also before sign-in)."""
    branding = configuration.branding_get()
    if not branding.logo:
        raise Http404("No logo.")
    response = FileResponse(branding.logo.open("rb"), content_type=branding.logo_content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=300"
    return response


def branding_theme(request):
    """The school's accent colour as a style sheet (the Content-Security-Policy allows no inline
    style), shown on its pages also before sign-in. The page links it with the colour in the query,
    so a changed colour is fetched at once."""
    colour = configuration.branding_get().accent_colour
    # Saved colours are checked; this is the last guard (a colour saved before the contrast rule, too).
    if not configuration.COLOUR.match(colour or "") or configuration.accent_contrast(colour) < configuration.ACCENT_CONTRAST_MIN:
        colour = Branding.DEFAULT_COLOUR
    response = HttpResponse(f":root {{ --accent: {colour}; }}\n", content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "public, max-age=86400"
    return response
