"""Reads on operators."""

from __future__ import annotations

from shared.operators.models import Operator


def operator_for_user(*, user) -> Operator | None:
    """The operator record of a signed-in public-schema user, or None for anyone else."""
    if not user.is_authenticated:
        return None
    return Operator.objects.filter(user_id=user.pk).first()


def operator_addresses(*, role: str) -> list[str]:
    """The email addresses of the active operators with ``role`` (the DPOs: ``Operator.Role.DPO``)."""
    return list(Operator.objects.filter(role=role, user__is_active=True).exclude(user__email="")
                .order_by("user__email").values_list("user__email", flat=True))
