"""Schools, their host names, and the pool of spare school schemas (all in ``public``)."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower
from django_tenants.models import DomainMixin, TenantMixin
from django_tenants.utils import get_public_schema_name

from shared import clock
from shared.process_cache import ProcessCache

# Which school each host name serves, as the school site's middleware reads it on every request
# (config.middleware.SchoolRoutingMiddleware). Every write to a school or a domain through the ORM
# invalidates it in every process (the querysets below and the signals in apps.py): a cancelled
# school's site closes, and a migrating school's shows the maintenance page, at the next request.
ROUTING = ProcessCache("school-routing", ttl=30.0)


class RoutingQuerySet(models.QuerySet):
    """A queryset whose bulk writes, which send no save or delete signal, invalidate ROUTING."""

    def update(self, **kwargs):
        rows = super().update(**kwargs)
        if rows:
            ROUTING.invalidate()
        return rows

    update.alters_data = True

    def delete(self):
        result = super().delete()
        ROUTING.invalidate()
        return result

    delete.alters_data = True

    def bulk_create(self, *args, **kwargs):
        created = super().bulk_create(*args, **kwargs)
        ROUTING.invalidate()
        return created

    def _raw_delete(self, using):
        # Fast deletes (a school's domains deleted with it) skip delete() and the signals.
        ROUTING.invalidate()
        return super()._raw_delete(using)


class School(TenantMixin):
    """A client school. Its ``schema_name`` is internal and stable (``school_000042``), never
    derived from the subdomain, so a school can change subdomain without DDL."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        CANCELLED = "cancelled", "Cancelled"

    class MigrationState(models.TextChoices):
        OK = "ok", "Up to date or waiting"
        MIGRATING = "migrating", "Migrating"  # the site shows the maintenance page
        FAILED = "failed", "Migration failed"  # rolled back; the site stays on the maintenance page

    name = models.CharField(max_length=200)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    signed_up_at = models.DateTimeField(default=clock.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    schema_dropped_at = models.DateTimeField(null=True, blank=True, help_text="Set by retention when the schema goes.")
    # Fleet migrations (orchestration.fleet): the migration state the schema is known to be at, so
    # that a deploy finds the schools behind with one query instead of opening every schema.
    migration_fingerprint = models.CharField(
        max_length=64, blank=True, default="",
        help_text="pool.migration_fingerprint() of the schema's last successful migration; empty: unknown.")
    migration_state = models.CharField(max_length=20, choices=MigrationState.choices, default=MigrationState.OK)
    migration_error = models.TextField(
        blank=True, default="", help_text="Why the last migration failed: the migration and the error's first line.")

    # Schemas come from the spare pool (orchestration.pool), not from migrating at save time;
    # and only the retention engine drops a school's schema, leaving a record.
    auto_create_schema = False
    auto_drop_schema = False

    objects = RoutingQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Domain(DomainMixin):
    """A host name that serves a school's site: ``<subdomain>.<BASE_DOMAIN>``."""

    objects = RoutingQuerySet.as_manager()

    class Meta:
        constraints = [
            # Host names are case-insensitive: "Oakfield" and "oakfield" are the same site.
            models.UniqueConstraint(Lower("domain"), name="schools_domain_unique_ci"),
        ]

    def __str__(self) -> str:
        return self.domain


class SpareSchema(models.Model):
    """A school schema made ahead of time from the template, at the migration state named by
    ``fingerprint``, waiting to be claimed by a new school."""

    schema_name = models.CharField(max_length=63, unique=True)
    fingerprint = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.schema_name


class SchemaRecipe(models.Model):
    """Every statement that migrating an empty school schema ran, recorded once per migration
    state (``fingerprint``) and replayed to make further school schemas in milliseconds."""

    fingerprint = models.CharField(max_length=64, unique=True)
    statements = models.JSONField(help_text="[sql, params, executemany] in the order they ran")
    created_at = models.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return f"recipe {self.fingerprint} ({len(self.statements)} statements)"


def public_tenant() -> School:
    """An unsaved stand-in for the vendor's public host: it routes requests to ``public``."""
    return School(schema_name=get_public_schema_name(), name="Pupil Tracking")
