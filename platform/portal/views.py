"""School-site views: parse (``portal.forms``), authorise (roles in ``portal.access``, object
access in the selectors), call one selector or service, render."""

from __future__ import annotations

from itertools import groupby

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import prefetch_related_objects
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy

from orchestration.retention.labels import unit_kind_label
from portal.access import STAFF, role_required
from portal.forms import (
    AssessmentPointForm,
    BrandingForm,
    DocumentForm,
    GraceForm,
    InviteForm,
    PupilFilterForm,
    ResultsFileForm,
    ResultsMappingForm,
    SignInPolicyForm,
    StandardsForm,
)
from portal.month_grid import month_grids
from shared import automation, clock
from shared.audit.selectors import automated_processes_for_school
from shared.forms import service_errors_to_form
from shared.query import date_param, id_param, parse_id
from tenants import dashboards
from tenants.assessment import calendar, charts, uploads
from tenants.assessment import selectors as assessment
from tenants.assessment.measures import MIN_GROUP_SIZE
from tenants.assessment.models import Aspect, AssessmentPoint, GradeSet
from tenants.assessment.services import StaleMarksheet, marksheet_save
from tenants.assessment.standards import standards_set
from tenants.configuration import services as configuration
from tenants.configuration.models import Branding, SchoolDocument
from tenants.pupils import selectors as pupils
from tenants.pupils.invitations import parent_invitation_preview, parent_invitations_run, run_under_way
from tenants.pupils.models import Pupil
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

RETENTION_CALENDAR_DAYS = 90


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
    # No list of accounts on either dashboard: the school admin's users page has them.
    if user.role == User.Role.SCHOOL_ADMIN:
        board = dashboards.head_dashboard(user=user, school=request.tenant)
    else:
        board = dashboards.teacher_dashboard(user=user)
    return render(request, "portal/dashboard.html", {"school": request.tenant, "board": board,
                                                     "min_group_size": MIN_GROUP_SIZE})


PROGRESS_FILTER = {"below": 1, "on": 2, "above": 3, "unknown": None}


@role_required(*STAFF)
def pupil_list(request):
    """The pupils this user may see, filtered, with their progress against the flight path in a
    subject or overall, sortable by name, year or progress; 50 a page, the filters kept when sorting
    and paging. A fixed number of queries a page (progress is computed in the database)."""
    aspects = assessment.headline_aspects()
    subjects_by_id = {a.subject_id: a.subject for a in aspects.values()}
    form = PupilFilterForm(request.GET or None, user=request.user,
                           subjects=sorted(subjects_by_id.values(), key=lambda s: s.name))
    filters, subject, sort, progress = {}, None, "name", ""
    if form.is_valid():
        data = form.cleaned_data
        filters = {"search": data["q"], "year": data["year"], "characteristic": data["characteristic"],
                   "group_id": data["group"].pk if data["group"] else None}
        subject, sort, progress = subjects_by_id.get(data["subject"]), data["sort"] or "name", data["progress"]
    # Sorted or filtered by progress, the database computes it for every pupil; otherwise Python
    # computes it for the page's 50 (two queries, several times cheaper).
    in_database = bool(progress) or sort.removeprefix("-") == "progress"
    listed, subjects = assessment.pupils_with_progress(pupils.pupil_list(request.user, **filters), subject=subject,
                                                       sort=sort, annotate=in_database, aspects=aspects)
    if progress:
        rank = PROGRESS_FILTER[progress]
        listed = listed.filter(progress_rank__isnull=True) if rank is None else listed.filter(progress_rank=rank)
    page = Paginator(listed, 50).get_page(request.GET.get("page"))
    on_page = list(page.object_list)
    if not in_database:
        assessment.progress_attach(on_page, subject=subject, aspects=aspects)
    names = {s.pk: s.name for s in subjects}
    rows = []
    for p in on_page:
        below = [] if subject else [names[sid] for sid in names if getattr(p, f"progress_{sid}", None) == 1]
        rows.append((p, assessment.PROGRESS_RANK.get(p.progress_rank, "unknown"),
                     assessment.progress_label(p.progress_rank), below))
    kept = request.GET.copy()
    for name in ("page", "sort"):
        kept.pop(name, None)
    return render(request, "portal/pupil_list.html", {
        "form": form, "page": page, "rows": rows, "sort": sort, "subject": subject,
        "sort_columns": [("name", "Name"), ("year", "Year"), ("progress", f"Progress{': ' + subject.name if subject else ''}")],
        "filters": kept.urlencode(), "paging": (kept.urlencode() + "&" if kept else "") + f"sort={sort}",
    })


@login_required
def pupil_detail(request, pupil_id: int):
    pupil = pupils.access_pupil(request.user, pupil_id)
    progress = assessment.pupil_progress(pupil)
    # Each chart lists its grade set's grades: one query for them all, not one per subject.
    prefetch_related_objects([p.aspect.grade_set for p in progress if p.aspect is not None], "grades")
    return render(request, "portal/pupil_detail.html", {
        "pupil": pupil,
        "progress": [(p, charts.progress_chart(p)) for p in progress],
        "staff_view": request.user.role in STAFF,
        "plain_language": request.user.role not in STAFF,  # parents and pupils get the words too
        "parents": pupil.parent_links.select_related("parent") if request.user.role in STAFF else (),
    })


@login_required
def pupil_report(request, pupil_id: int):
    """A printable progress report: the same access as the pupil page."""
    pupil = pupils.access_pupil(request.user, pupil_id)
    progress = assessment.pupil_progress(pupil)
    return render(request, "portal/pupil_report.html", {
        "pupil": pupil, "progress": [(p, charts.progress_chart(p)) for p in progress], "today": clock.today(),
        "plain_language": True,  # a report goes home
    })


def _marksheet_grades(post) -> tuple[dict[int, int | None], dict[int, int | None]]:
    """The posted entries (``pupil-<id>``) and what the form showed when it was opened (``was-<id>``)."""
    grades, shown = {}, {}
    for key, value in post.items():
        if key.startswith("pupil-"):
            grades[parse_id(key.removeprefix("pupil-"), "pupil")] = parse_id(value, key) if value else None
        elif key.startswith("was-"):
            shown[parse_id(key.removeprefix("was-"), "pupil")] = parse_id(value, key) if value else None
    return grades, shown


@role_required(*STAFF)
def marksheet(request, group_id: int):
    """A group's grades for one aspect at an assessment point (the current one unless another is
    chosen; ``date`` instead enters results of one day). Saved whole or not at all; a form opened
    before someone else saved comes back with its entries and names the pupils who changed."""
    group = pupils.access_group(request.user, group_id)
    aspects = Aspect.objects.select_related("subject", "grade_set")
    # A malformed aspect, point, date, pupil or grade is a 400 before anything is read or saved.
    data = request.POST if request.method == "POST" else request.GET
    aspect_id = id_param(request.GET, "aspect") or id_param(request.POST, "aspect")
    point_id = id_param(request.GET, "point") or id_param(request.POST, "point")
    recorded_on = date_param(request.GET, "date") or date_param(request.POST, "date")
    grades, shown = _marksheet_grades(request.POST) if request.method == "POST" else ({}, {})
    aspect = get_object_or_404(aspects, pk=aspect_id or (aspects.first().pk if aspects.exists() else 0))
    calendar.calendar_ensure()
    point = None
    if point_id:
        point = get_object_or_404(AssessmentPoint, pk=point_id)
    elif recorded_on is None:
        point = calendar.point_current()
        if point is None:
            recorded_on = clock.today()
    entered, conflicts = None, {}
    if request.method == "POST":
        try:
            saved = marksheet_save(user=request.user, group=group, aspect=aspect, point=point,
                                   recorded_on=None if point else recorded_on, grades=grades,
                                   expected=shown if "sheet-check" in data else None)
        except StaleMarksheet as error:
            messages.error(request, " ".join(error.messages))
            entered, conflicts = grades, error.changed
        except ValidationError as error:
            messages.error(request, " ".join(error.messages) + " Nothing was saved.")
            entered = grades
        else:
            messages.success(request, f"Saved {saved} result{'s' if saved != 1 else ''} for {group.name}."
                              if saved else f"Nothing had changed for {group.name}.")
            where = f"point={point.pk}" if point else f"date={recorded_on.isoformat()}"
            return redirect(f"{request.path}?aspect={aspect.pk}&{where}")
    sheet = assessment.marksheet(group=group, aspect=aspect, point=point, recorded_on=None if point else recorded_on)
    rows = [(row, entered.get(row.pupil.pk, row.current) if entered is not None else row.current,
             row.pupil.pk in conflicts) for row in sheet.rows]
    return render(request, "portal/marksheet.html", {
        "sheet": sheet, "aspects": aspects, "points": calendar.points_all(), "rows": rows,
        "locked_by": (sheet.point.locked_by.full_name or sheet.point.locked_by.email)
        if sheet.locked and sheet.point.locked_by else "",
    })


CALENDAR_ACTIONS = ("add", "change", "delete", "lock", "unlock", "standards")


@role_required(*STAFF)
def assessment_calendar(request):
    """The school's assessment points by school year (window, lock) and each grade set's standards.
    A school admin adds, renames, moves, removes, locks and unlocks points (removing and unlocking
    ask to be confirmed first) and sets the standards; a teacher sees the calendar only."""
    calendar.calendar_ensure()
    admin = request.user.role == User.Role.SCHOOL_ADMIN
    add_form = AssessmentPointForm(prefix="new")
    edit_forms, standards_forms, confirm = {}, {}, None
    grade_sets = list(GradeSet.objects.prefetch_related("grades").select_related("expected_from", "greater_depth_from"))
    if request.method == "POST":
        if not admin:
            raise PermissionDenied("Only a school admin can change the assessment calendar.")
        action = request.POST.get("action", "")
        if action not in CALENDAR_ACTIONS:
            raise BadRequest("Unknown action.")
        try:
            if action == "add":
                add_form = AssessmentPointForm(request.POST, prefix="new")
                if add_form.is_valid():
                    point = calendar.point_add(user=request.user, **add_form.cleaned_data)
                    messages.success(request, f"{point.name} added.")
                    return redirect("assessment_calendar")
            elif action == "standards":
                grade_set = get_object_or_404(GradeSet, pk=id_param(request.POST, "grade_set", default=0))
                form = StandardsForm(request.POST, grade_set=grade_set, prefix=f"gs{grade_set.pk}")
                standards_forms[grade_set.pk] = form
                if form.is_valid():
                    standards_set(user=request.user, grade_set=grade_set, **form.cleaned_data)
                    messages.success(request, f"Standards of {grade_set.name} saved.")
                    return redirect("assessment_calendar")
            else:
                point = get_object_or_404(AssessmentPoint, pk=id_param(request.POST, "point", default=0))
                if action == "change":
                    form = AssessmentPointForm(request.POST, prefix=f"p{point.pk}")
                    edit_forms[point.pk] = form
                    if form.is_valid():
                        calendar.point_change(user=request.user, point=point, **form.cleaned_data)
                        messages.success(request, f"{form.cleaned_data['name']} saved.")
                        return redirect("assessment_calendar")
                elif action in ("delete", "unlock") and request.POST.get("confirm") != "yes":
                    confirm = (action, point)  # asked first: the page shows what it would do
                else:
                    {"delete": calendar.point_delete, "lock": calendar.point_lock,
                     "unlock": calendar.point_unlock}[action](user=request.user, point=point)
                    done = {"delete": "removed", "lock": "locked: its results can no longer be changed",
                            "unlock": "unlocked: its results can be changed again (recorded in the change log)"}
                    messages.success(request, f"{point.name} {done[action]}.")
                    return redirect("assessment_calendar")
        except ValidationError as error:
            target = (add_form if action == "add" else edit_forms.get(int(request.POST.get("point") or 0))
                      if action == "change" else standards_forms.get(int(request.POST.get("grade_set") or 0)))
            if target is not None:
                service_errors_to_form(target, error)
            else:
                messages.error(request, " ".join(error.messages) + " Nothing was changed.")
    years: dict[int, list] = {}
    for window in calendar.windows(AssessmentPoint.objects.select_related("locked_by")):
        point = window.point
        form = edit_forms.get(point.pk) or AssessmentPointForm(prefix=f"p{point.pk}",
                                                               initial={"name": point.name, "date": point.date})
        years.setdefault(calendar.school_year(point.date), []).append((window, form))
    current = calendar.point_current()
    return render(request, "portal/assessment_calendar.html", {
        "admin": admin, "add_form": add_form, "confirm": confirm, "current": current,
        "years": [(calendar.school_year_label(year), rows) for year, rows in sorted(years.items())],
        "grade_sets": [(gs, standards_forms.get(gs.pk) or StandardsForm(
            grade_set=gs, prefix=f"gs{gs.pk}",
            initial={"expected_from": gs.expected_from_id, "greater_depth_from": gs.greater_depth_from_id}))
            for gs in grade_sets],
    })


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


@role_required(*STAFF)
def results_upload(request):
    """Results from a CSV file: upload (checked, kept server-side for the preview), the column
    mapping with a preview of the first rows, then the import, all or nothing. A teacher imports
    for the pupils of their groups; only a school admin adds an aspect."""
    token = request.POST.get("upload") or request.GET.get("upload") or ""
    staged = uploads.upload_get(user=request.user, token=token) if token else None
    if token and staged is None:
        messages.error(request, "This upload has expired or was already imported: upload the file again.")
        return redirect("results_upload")
    file_form, mapping_form, errors = ResultsFileForm(), None, []
    if request.method == "POST" and request.POST.get("action") == "upload":
        file_form = ResultsFileForm(request.POST, request.FILES)
        if file_form.is_valid():
            upload = file_form.cleaned_data["file"]
            try:
                staged = uploads.upload_stage(user=request.user, content=upload.read(uploads.MAX_BYTES + 1),
                                              filename=upload.name, size=upload.size)
            except ValidationError as error:
                file_form.add_error("file", error.messages)
            else:
                return redirect(f"{reverse('results_upload')}?upload={staged.token}")
    elif request.method == "POST" and request.POST.get("action") == "import" and staged is not None:
        mapping_form = ResultsMappingForm(request.POST, header=staged.table.header, user=request.user)
        if mapping_form.is_valid():
            data = mapping_form.cleaned_data
            mapping = uploads.Mapping(pupil_by=data["pupil_by"], pupil=data["pupil"], birth=data["birth"],
                                      grade=data["grade"], date=data["date"])
            new_aspect = ((data["aspect_subject"], data["aspect_name"], data["aspect_grade_set"])
                          if data.get("aspect_subject") else None)
            try:
                summary, aspect = uploads.upload_import(user=request.user, token=staged.token, mapping=mapping,
                                                        aspect=data["aspect"], new_aspect=new_aspect,
                                                        point=data["point"])
            except ValidationError as error:
                if hasattr(error, "error_dict"):
                    service_errors_to_form(mapping_form, error)
                else:
                    errors = error.messages
            else:
                skipped = f"; {summary.blank} row{'s' if summary.blank != 1 else ''} without a grade skipped" \
                    if summary.blank else ""
                messages.success(request, f"Imported {summary.written} result{'s' if summary.written != 1 else ''} "
                                          f"of {aspect} ({summary.unchanged} already there{skipped}).")
                return redirect("results_upload")
    elif request.method == "POST":
        raise BadRequest("Unknown action.")
    if staged is not None and mapping_form is None:
        mapping_form = ResultsMappingForm(header=staged.table.header, user=request.user,
                                          initial=uploads.mapping_guess(staged.table.header))
    return render(request, "portal/results_upload.html", {
        "file_form": file_form, "mapping_form": mapping_form, "staged": staged, "errors": errors,
        "preview": uploads.preview_rows(staged.table) if staged else [],
        "limits": {"bytes": uploads.MAX_BYTES // 1024 // 1024, "rows": uploads.MAX_ROWS},
    })


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
    calendar = retention_calendar(as_of=clock.today(), days=RETENTION_CALENDAR_DAYS, school=request.tenant)
    due = calendar.due
    problems = calendar.unplannable  # a leaving date out of range: kept until corrected
    names = dict((p.pk, str(p)) for p in Pupil.objects.filter(pk__in=[unit_pupil_id(d.record) for d in [*due, *problems]]))
    return render(request, "portal/retention.html", {
        "form": form, "calendar": [(day, [(d, names.get(unit_pupil_id(d.record), "")) for d in items])
                                   for day, items in groupby(sorted(due, key=lambda d: d.due_on), key=lambda d: d.due_on)],
        "months": month_grids(start=clock.today(), days=RETENTION_CALENDAR_DAYS, due_on=[d.due_on for d in due]),
        "days": RETENTION_CALENDAR_DAYS,
        "unplannable": [(u, names.get(unit_pupil_id(u.record), "")) for u in problems],
        "deletions": [(r, unit_kind_label(r.kind)) for r in DeletionRecord.objects.filter(school_id=request.tenant.pk)[:50]],
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
