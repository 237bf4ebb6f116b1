"""Access and portability exports: the registry-driven engine that finds every record about given
people (``records``) and the vendor's own export of a person's records, found by email address
(``vendor``). A school's export of one person is ``tenants.rights.access_export``."""
