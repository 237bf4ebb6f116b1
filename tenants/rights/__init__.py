"""Data subjects' rights in a school: the school's own requests (it is the controller of pupil,
parent and school-user data) and the tools that answer them, driven by the personal-data registry:
access and portability exports, correction, erasure (with the public erasure ledger), restriction,
objection and consent.

An export is handed out behind a one-time link (a 256-bit token, only its digest stored), opened on
that school's site only, once, within ``EXPORT_LINK_DAYS``; the file is deleted as it is handed out,
and a HEAD request (a mail scanner's) leaves the link for the GET. Restriction and objection keep the
record, but the import neither updates it nor adds results to it, and the cohort analysis leaves it
out. A request the vendor received about a school's data arrives here with its original date
(``orchestration.requests``)."""
