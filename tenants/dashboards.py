"""What each staff role's dashboard shows: what needs doing, from reads that run a fixed number of
queries whatever the school's size. No list of the school's accounts on either (the users page
has them, for the school admin).

- The head teacher and school admin: attainment (% at the expected standard or above in each
  subject) at the current assessment point against the previous one, support-access requests
  waiting for an answer, data requests with their deadlines, the last Xporter import and whether
  it failed, and the pupils with no result at the current point.
- A teacher: their teaching groups, each with its marks still missing for the current point, and
  their pupils below the flight path."""

from __future__ import annotations

from dataclasses import dataclass, field

from shared import clock
from shared.privacy.requests.services import requests_due
from shared.support import selectors as support
from tenants.assessment import calendar, measures
from tenants.pupils import selectors as pupils
from tenants.pupils.models import Group
from tenants.rights.models import SchoolRequest
from tenants.users.models import User
from tenants.xporter.models import ImportRun, XporterConnection

BELOW_SHOWN = 25  # pupils below the flight path listed on a teacher's dashboard (all are counted)


@dataclass
class Assessment:
    """The current assessment point (the one results are being collected for) and the one before."""

    window: calendar.Window | None
    previous: calendar.Window | None

    @property
    def point(self):
        return self.window.point if self.window else None


def _assessment() -> Assessment:
    today = clock.today()
    calendar.calendar_ensure(today)
    all_windows = calendar.windows()
    current = calendar.point_current(today, all_windows)
    if current is None:
        return Assessment(None, None)
    previous = calendar.point_previous(current, all_windows)
    return Assessment(calendar.window_of(current, all_windows),
                      calendar.window_of(previous, all_windows) if previous else None)


@dataclass
class ImportStatus:
    connected: bool
    last_run: ImportRun | None
    failing: bool  # the connection's last attempt failed (after its last success, if any)
    failure_at: object = None
    failure_reason: str = ""


@dataclass
class HeadDashboard:
    assessment: Assessment
    attainment: list[measures.SubjectAttainment] = field(default_factory=list)
    support_pending: list = field(default_factory=list)
    requests_overdue: list = field(default_factory=list)
    requests_near: list = field(default_factory=list)
    imports: ImportStatus | None = None
    without_result: int = 0


@dataclass
class TeacherDashboard:
    assessment: Assessment
    groups: list[measures.GroupMarks] = field(default_factory=list)
    below_count: int = 0
    below: list = field(default_factory=list)


def head_dashboard(*, user: User, school) -> HeadDashboard:
    assessment = _assessment()
    cohort = pupils.pupil_list(user)
    board = HeadDashboard(assessment=assessment)
    if assessment.window is not None:
        board.attainment = measures.attainment_by_subject(pupils=cohort, window=assessment.window,
                                                          previous=assessment.previous)
        board.without_result, _ = measures.pupils_without_result(pupils=cohort, window=assessment.window, limit=0)
    board.support_pending = list(support.support_requests_pending(school=school))
    board.requests_overdue, board.requests_near = requests_due(requests=SchoolRequest.objects.all())
    connection = XporterConnection.objects.first()
    failing = bool(connection and connection.last_failure_at and
                   (connection.last_success_at is None or connection.last_failure_at > connection.last_success_at))
    board.imports = ImportStatus(connected=connection is not None, last_run=ImportRun.objects.first(), failing=failing,
                                 failure_at=connection.last_failure_at if failing else None,
                                 failure_reason=connection.last_failure_reason if failing else "")
    return board


def teacher_dashboard(*, user: User) -> TeacherDashboard:
    assessment = _assessment()
    board = TeacherDashboard(assessment=assessment)
    groups = pupils.groups_visible_to(user).filter(kind=Group.Kind.TEACHING)
    if assessment.window is not None:
        board.groups = measures.marks_missing_by_group(groups=groups, window=assessment.window)
        board.below_count, board.below = measures.pupils_below_flight_path(
            pupils=pupils.pupil_list(user), window=assessment.window, limit=BELOW_SHOWN)
    return board
