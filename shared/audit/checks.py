"""System check: every actor on the broker is a declared automated process, and every one that
reads school data names its purpose (``shared.automation``). It runs with every manage.py command
(``check`` included) and in the suite (``tests/shared/test_automation.py``).

automation.E001  an actor on the broker has no declaration
automation.E002  a declaration reads school data but names no purpose (or no data it reads)
automation.E003  a declaration names an actor the broker does not have

``AUTOMATION_CHECK_EXEMPT_MODULES`` (a setting; empty in production) lists module prefixes whose
actors are not the product's: the test settings exempt the suite's own probe actors (``tests.``).
"""

from __future__ import annotations

import dramatiq
from django.conf import settings
from django.core import checks

from shared import automation


def _exempt(actor) -> bool:
    prefixes = tuple(getattr(settings, "AUTOMATION_CHECK_EXEMPT_MODULES", ()))
    module = getattr(getattr(actor, "fn", None), "__module__", "") or ""
    return bool(prefixes) and module.startswith(prefixes)


@checks.register()
def automated_processes_check(app_configs=None, **kwargs):
    declarations = automation.declarations()
    broker = dramatiq.get_broker()
    errors = []
    names = set(broker.get_declared_actors())
    for name in sorted(names):
        actor = broker.actors.get(name)
        if name not in declarations and not _exempt(actor):
            errors.append(checks.Error(
                f"the actor {name} is not a declared automated process",
                hint="Declare it with @automated(...) from shared.automation, under @dramatiq.actor: whether it "
                     "reads school data and, if so, its purpose, the data it reads and its schedule.",
                obj=name, id="automation.E001"))
    for name, declaration in sorted(declarations.items()):
        if declaration.reads_school_data and (declaration.purpose is None or not declaration.reads):
            errors.append(checks.Error(
                f"the automated process {name} reads school data but names no "
                + ("purpose" if declaration.purpose is None else "data it reads"),
                hint="Give it purpose=Purpose.… (the notice's purposes) and reads=(DataCategory.…, ...).",
                obj=name, id="automation.E002"))
        if name not in names:
            errors.append(checks.Error(f"the automated process {name} is declared but no actor has that name",
                                       obj=name, id="automation.E003"))
    return errors
