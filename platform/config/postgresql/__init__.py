"""The database backend: django-tenants' PostgreSQL backend, with each connection's lifetime also
bounded by the number of school schemas it has served (see ``base.DatabaseWrapper``)."""
