"""Support access with the school's permission (in ``public``), after Microsoft's Customer Lockbox:
an operator asks a school for time-limited access to its data, for a support ticket; the school's
admin approves, refuses or revokes it on the school's own site; and every attempt to open the school's
data from the console passes one guard, which logs it, allowed or refused, where the school can read it.

A grant's end is computed from its ``expires_at``, so no job has to run for access to close. The log
holds ids only, and paths without their query string (a search could carry a name). The reads under a
grant are ``orchestration.support``."""
