"""Django apps migrated into every school's own schema: what the school controls and the vendor
only processes (its users, pupils and groups, assessment, the Xporter import, its configuration
files, its data subjects' requests). The school site that shows them is ``portal``."""
