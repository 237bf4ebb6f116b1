"""The school admin's Xporter on Demand settings: the establishment number and the secret (never
shown again once saved), a connection test that shows what the school authorised, switching the
import off or on, and an import on demand."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from portal.access import ADMIN, role_required
from portal.forms import XporterSettingsForm
from shared.forms import service_errors_to_form
from tenants.xporter import services
from tenants.xporter.tasks import xporter_sync_school


@role_required(ADMIN)
def xporter_settings(request):
    connection = services.connection_get()
    form = XporterSettingsForm(initial={"estab": connection.estab if connection else ""})
    check = None
    action = request.POST.get("action") if request.method == "POST" else None
    if action == "save":
        form = XporterSettingsForm(request.POST)
        if form.is_valid():
            try:
                services.connection_save(user=request.user, estab=form.cleaned_data["estab"],
                                         secret=form.cleaned_data["secret"])
            except ValidationError as error:
                service_errors_to_form(form, error)
            else:
                messages.success(request, "Xporter settings saved. Test the connection to see what the school authorised.")
                return redirect("xporter_settings")
    elif action == "test":
        check = services.connection_test()
    elif action in ("off", "on") and connection is not None:
        services.connection_switch(user=request.user, enabled=action == "on")
        messages.success(request, "Xporter imports are switched off: the data already imported stays."
                         if action == "off" else "Xporter imports are switched on: they run every night.")
        return redirect("xporter_settings")
    elif action == "sync" and connection is not None and connection.enabled:
        xporter_sync_school.send()
        messages.success(request, "Import queued: it runs in the background, usually within a minute.")
        return redirect("xporter_settings")
    elif action is not None:
        messages.error(request, "Nothing was done: save the establishment number and the secret first, "
                                "or switch the import on.")
        return redirect("xporter_settings")
    return render(request, "portal/xporter_settings.html", {"connection": connection, "form": form, "check": check})
