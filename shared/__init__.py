"""Django apps migrated into the public schema: what the vendor controls (schools and their
domains, the spare-schema pool, operators), plus small shared helpers such as the clock."""
