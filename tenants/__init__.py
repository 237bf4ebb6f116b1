"""Django apps migrated into every school's own schema: what the school controls and the vendor
only processes (the school's users now; pupils, groups and assessment later)."""
