"""Schools (the django-tenants tenant model), their domains, and provisioning: the pool of spare,
already-migrated school schemas that makes signing a school up a single row claim."""
