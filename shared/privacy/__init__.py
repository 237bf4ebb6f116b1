"""The personal-data registry: every field of every model, classified into a data category that
maps to a retention rule and a lawful basis (the privacy notice's table). Retention, subject-access
export, erasure and the record of processing all read this one registry; a system check fails when
a model gains a field nobody classified."""
