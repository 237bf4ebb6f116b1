"""The vendor's operators: staff who use the operator console on the public host. Each is a user
in the ``public`` schema with an operator role."""
