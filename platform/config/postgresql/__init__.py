"""The database backend: django-tenants' PostgreSQL backend, with each connection's lifetime also
bounded by the number of school schemas it has served (see ``base.DatabaseWrapper``).

Behind PgBouncer only session mode is safe. django-tenants enters a school with a session-level
``SET search_path``, a statement of its own before the queries that follow. In session mode a client
keeps one server connection until it disconnects, and ``DISCARD ALL`` clears the path when it leaves; in
transaction mode each transaction may go to another server connection, so one client's queries can run
under the path another client set, in another school's schema. Setting the path inside every
transaction (``SET LOCAL`` after each ``BEGIN``) would mean wrapping every autocommit query of Django,
django-tenants and the libraries in a transaction of its own, so ``DB_POOL_MODE=transaction`` (or
``statement``) is refused at start instead. A server connection outlives its clients in PgBouncer's
pool, catalog cache and all; so with ``DB_POOL_MODE=session`` a connection that has served a school is
closed inside an open transaction, which makes PgBouncer close the server connection rather than
hand it on. Connections that stayed in ``public`` are pooled as usual."""
