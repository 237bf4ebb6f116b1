"""Reads on users, inside the current schema."""

from __future__ import annotations

from django.db.models import QuerySet

from tenants.users.models import User


def user_list() -> QuerySet[User]:
    """The users of the current schema, for listing."""
    return User.objects.only("id", "email", "full_name", "role", "is_active", "last_login").order_by("email")
