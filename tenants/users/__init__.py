"""The user model. Migrated into every school schema (that school's staff, parents and pupils,
whose accounts, passwords and sessions die with the schema) and into ``public`` (the vendor's
operators). Users sign in with their email address."""
