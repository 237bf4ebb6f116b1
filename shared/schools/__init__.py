"""Schools (the django-tenants tenant model) and their domains. Schema names are internal and
stable (``school_000042``, from a sequence), never derived from the subdomain. Signing a school up and
the pool of spare schemas it claims from enter school schemas, so they are ``orchestration``."""
