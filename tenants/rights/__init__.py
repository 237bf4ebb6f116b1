"""Data subjects' rights in a school: the school's own requests (it is the controller of pupil,
parent and school-user data) and the tools that answer them, driven by the personal-data registry:
access and portability exports, correction, erasure (with the public erasure ledger), restriction,
objection and consent.

An export is handed out behind a one-time link (a 256-bit token, only its digest stored), opened on
that school's site only, once, within ``EXPORT_LINK_DAYS``; the file is deleted as it is handed out,
and a HEAD request (a mail scanner's) leaves the link for the GET. Restriction and objection keep the
record, but the import neither updates it nor adds results to it, and the cohort analysis leaves it
out. A request the vendor received about a school's data arrives here with its original date
(``orchestration.requests``).

``Consent`` is the school's own record of what its pupils and parents consented to (photographs on
reports, say): the school is the controller and decides what rests on it. Nothing the service does
with the school's data rests on these consents (the service processes it on the school's documented
instructions, the Terms of Use), so they gate nothing here; a school that makes some processing of
its own depend on one reads it from this record. The vendor's own consent-based processing (optional
communications to client contacts, direct marketing to prospects) is gated in ``shared.clients`` and
``shared.marketing``."""
