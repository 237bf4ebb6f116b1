"""Support access with the school's permission (in ``public``): an operator asks a school for
time-limited access to its data, for a support ticket; the school's admin approves, refuses or
revokes it on the school's own site; and every attempt to open the school's data from the console
passes one guard, which logs it, allowed or refused, where the school can read it."""
