"""Data subjects' rights in a school: the school's own requests (it is the controller of pupil,
parent and school-user data) and the tools that answer them, driven by the personal-data registry:
access and portability exports, correction, erasure (with the public erasure ledger), restriction,
objection and consent."""
