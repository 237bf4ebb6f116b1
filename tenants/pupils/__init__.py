"""Pupils, their parents and carers, groups (year, registration, teaching) and who teaches them:
the school's own data, in its own schema. The UPN is kept for matching only and is never shown."""
