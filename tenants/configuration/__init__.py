"""A school's configuration files: its branding (logo and colour) and the documents it uploads.

The files live on disk under ``SCHOOL_FILES_ROOT/<schema name>/``, never in a shared folder, so one
school's files can be removed whole: retention does so 3 months after the contract is cancelled
(the "previous client configuration files" row of the privacy notice)."""
