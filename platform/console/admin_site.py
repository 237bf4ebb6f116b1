"""The Django admin as a read-only raw data view, for administrators only. Everyday work happens in
the console's own screens, which go through the services and the change log; this view changes
nothing, so it needs neither."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin import AdminSite
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from console.access import can
from shared.audit.models import ChangeLogEntry
from shared.billing.models import CreditNote, Invoice, InvoiceLine, Payment
from shared.clients.models import ClientAccount, Complaint, Contact, Contract, Correspondence
from shared.marketing.models import Prospect, ProspectInteraction
from shared.operators.models import Operator
from shared.operators.selectors import operator_for_user
from shared.schools.models import Domain, School, SpareSchema


class RawDataSite(AdminSite):
    site_header = "Pupil Tracking · raw data (read-only)"
    site_title = "Raw data"
    index_title = "Tables in the public schema"

    def has_permission(self, request):
        user = request.user
        return (user.is_active and user.is_authenticated and user.is_verified()
                and can(operator_for_user(user=user), "raw_data"))

    def login(self, request, extra_context=None):
        # Never the admin's own password-only form: the console's sign-in asks for the code too.
        if request.user.is_authenticated and request.user.is_verified():
            raise PermissionDenied("The raw data view is for administrators.")
        return redirect_to_login(request.GET.get("next", "/console/raw/"))


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return self.admin_site.has_permission(request)

    def has_module_permission(self, request):
        return self.admin_site.has_permission(request)


raw_data_site = RawDataSite(name="raw")
for model in (School, Domain, SpareSchema, Contract, Contact, ClientAccount, Correspondence, Complaint, Invoice,
              InvoiceLine, Payment, CreditNote, Prospect, ProspectInteraction, Operator, ChangeLogEntry):
    raw_data_site.register(model, ReadOnlyAdmin)
