"""Reads on operators."""

from __future__ import annotations

from shared.operators.models import Operator


def operator_for_user(*, user) -> Operator | None:
    """The operator record of a signed-in public-schema user, or None for anyone else."""
    if not user.is_authenticated:
        return None
    return Operator.objects.filter(user_id=user.pk).first()
