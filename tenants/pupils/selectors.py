"""Who may see which pupils and groups. Every school-site view reaches pupils and groups through
these, so the checks hold whatever a template shows: a school admin sees everyone, a teacher the
pupils of the groups they teach, a parent their own children, a pupil themself."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from tenants.pupils.models import Group, Pupil, SenProvision
from tenants.users.models import User

STAFF_ROLES = frozenset({User.Role.SCHOOL_ADMIN, User.Role.TEACHER})


def pupils_visible_to(user: User) -> QuerySet[Pupil]:
    if not user.is_authenticated:
        return Pupil.objects.none()
    if user.role == User.Role.SCHOOL_ADMIN:
        return Pupil.objects.all()
    if user.role == User.Role.TEACHER:
        return Pupil.objects.filter(pk__in=Group.pupils.through.objects.filter(group__staff=user).values("pupil_id"))
    if user.role == User.Role.PARENT:
        return Pupil.objects.filter(parent_links__parent__user=user)
    if user.role == User.Role.PUPIL:
        return Pupil.objects.filter(user=user)
    return Pupil.objects.none()


def access_pupil(user: User, pupil_id: int) -> Pupil:
    """The pupil, if this user may see them; otherwise 404 (not 403: it does not confirm the id)."""
    pupil = pupils_visible_to(user).filter(pk=pupil_id).first()
    if pupil is None:
        raise Http404("No such pupil")
    return pupil


def groups_visible_to(user: User) -> QuerySet[Group]:
    if user.is_authenticated and user.role == User.Role.SCHOOL_ADMIN:
        return Group.objects.all()
    if user.is_authenticated and user.role == User.Role.TEACHER:
        return Group.objects.filter(staff=user)
    return Group.objects.none()


def access_group(user: User, group_id: int) -> Group:
    group = groups_visible_to(user).filter(pk=group_id).first()
    if group is None:
        raise Http404("No such group")
    return group


FILTERS = {
    "disadvantaged": Q(pupil_premium=True) | Q(fsm_ever6=True),
    "not_disadvantaged": Q(pupil_premium=False, fsm_ever6=False),
    "fsm": Q(fsm=True),
    "sen": ~Q(sen_provision=SenProvision.NONE),
    "ehcp": Q(sen_provision=SenProvision.EHCP),
    "eal": Q(eal=True),
    "looked_after": Q(looked_after=True),
    "service_child": Q(service_child=True),
}


def pupil_list(user: User, *, year: str = "", group_id: int | None = None, characteristic: str = "",
               search: str = "", include_left: bool = False) -> QuerySet[Pupil]:
    """The pupils this user may see, filtered; ``characteristic`` is a key of FILTERS."""
    queryset = pupils_visible_to(user)
    if not include_left:
        queryset = queryset.filter(on_roll=True)
    if year:
        queryset = queryset.filter(year_group=year)
    if group_id:
        queryset = queryset.filter(groups__id=group_id)
    if characteristic in FILTERS:
        queryset = queryset.filter(FILTERS[characteristic])
    if search.strip():
        term = search.strip()
        queryset = queryset.filter(Q(forename__icontains=term) | Q(surname__icontains=term))
    return queryset.only("id", "forename", "surname", "year_group", "registration_group", "gender", "sen_provision",
                         "pupil_premium", "fsm_ever6", "fsm", "eal", "looked_after", "service_child", "on_roll",
                         "processing_restricted", "processing_objected")


def year_groups() -> list[str]:
    return list(Pupil.objects.exclude(year_group="").order_by("year_group").values_list("year_group", flat=True).distinct())
