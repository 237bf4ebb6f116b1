"""The school site on ``<subdomain>.<BASE_DOMAIN>``: sign-in, setting a password from a link, and
the staff dashboard. Everything here runs inside the school's own schema."""
