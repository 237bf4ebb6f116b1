"""Who changed what, as every layer names it: the ``Actor`` behind a change (an operator, a school's
user, or the system) and the kinds of change the change log records. The log itself is
``shared.audit`` (``change_log_record``); this small core module lets every layer say who acts
without depending on the log's tables."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django_tenants.utils import get_public_schema_name


class Action(models.TextChoices):
    CREATE = "create", "Added"
    UPDATE = "update", "Edited"
    DELETE = "delete", "Deleted"
    EXPORT = "export", "Exported"


class ActorKind(models.TextChoices):
    OPERATOR = "operator", "Operator"
    SCHOOL_USER = "school_user", "School user"
    SYSTEM = "system", "System"


@dataclass(frozen=True)
class Actor:
    """Who did something: an operator, a school's user, or the system (a scheduled worker)."""

    kind: str
    user_id: int | None
    schema: str

    @classmethod
    def system(cls) -> "Actor":
        return cls(kind=ActorKind.SYSTEM, user_id=None, schema=get_public_schema_name())

    @classmethod
    def operator(cls, user) -> "Actor":
        return cls(kind=ActorKind.OPERATOR, user_id=user.pk, schema=get_public_schema_name())

    @classmethod
    def school_user(cls, user, schema: str) -> "Actor":
        return cls(kind=ActorKind.SCHOOL_USER, user_id=user.pk, schema=schema)
