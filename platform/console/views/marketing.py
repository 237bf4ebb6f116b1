"""Prospects: business development, consent to direct marketing, and objections to it."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from console import forms as console_forms
from console.access import console_view
from console.views import page_of, saved
from shared.marketing import services
from shared.marketing.models import Prospect


@console_view("prospects")
def prospect_list(request):
    search = request.GET.get("q", "").strip()
    queryset = Prospect.objects.all()
    if search:
        queryset = queryset.filter(Q(full_name__icontains=search) | Q(organisation__icontains=search)
                                   | Q(email__icontains=search))
    return render(request, "console/prospect_list.html", {"page": page_of(request, queryset), "q": search})


@console_view("prospects")
def prospect_new(request):
    form = console_forms.ProspectForm(request.POST or None)
    prospect = saved(request, form, lambda data: services.prospect_create(actor=request.actor, **data), "Prospect added.")
    if prospect:
        return redirect("prospect_detail", prospect_id=prospect.pk)
    return render(request, "console/form_page.html", {"form": form, "title": "Add a prospect"})


@console_view("prospects")
def prospect_detail(request, prospect_id: int):
    prospect = get_object_or_404(Prospect, pk=prospect_id)
    form = console_forms.ProspectInteractionForm(request.POST or None)
    if saved(request, form, lambda data: services.prospect_interaction_record(actor=request.actor, prospect=prospect, **data),
             "Interaction recorded."):
        return redirect("prospect_detail", prospect_id=prospect.pk)
    consents = list(prospect.consents.all())
    return render(request, "console/prospect_detail.html", {
        "prospect": prospect, "interactions": prospect.interactions.all(), "form": form, "consents": consents,
        "consent": next((c for c in consents if c.withdrawn_at is None), None),
    })


@console_view("prospects")
@require_POST
def prospect_consent(request, prospect_id: int):
    """Record a prospect's consent to direct marketing, or its withdrawal, from now."""
    prospect = get_object_or_404(Prospect, pk=prospect_id)
    how = request.POST.get("how", "")
    try:
        if request.POST.get("action") == "give":
            services.prospect_consent_give(actor=request.actor, prospect=prospect, how=how)
            messages.success(request, f"{prospect.full_name}'s consent to direct marketing recorded.")
        elif request.POST.get("action") == "withdraw":
            services.prospect_consent_withdraw(actor=request.actor, prospect=prospect, how=how)
            messages.success(request, f"{prospect.full_name}'s consent withdrawn: they are off the marketing list "
                                      "from now.")
        else:
            raise ValidationError("Choose to record or to withdraw the consent.")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages) + " Nothing was changed.")
    return redirect("prospect_detail", prospect_id=prospect.pk)


@console_view("prospects")
@require_POST
def prospect_object(request, prospect_id: int):
    prospect = get_object_or_404(Prospect, pk=prospect_id)
    services.prospect_object(actor=request.actor, prospect=prospect)
    messages.success(request, f"Objection recorded: {prospect.full_name} will not be contacted again.")
    return redirect("prospect_detail", prospect_id=prospect.pk)
