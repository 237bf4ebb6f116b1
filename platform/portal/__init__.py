"""The school site on ``<subdomain>.<BASE_DOMAIN>``, inside the school's own schema: staff pages
(pupil list, a pupil's page with a progress chart per subject, the marksheet saved all or nothing,
cohort analysis, users, data import, settings), the parent's and pupil's pages, the school's data
subjects' requests, retention and support-access pages, and signing in.

Who may see which pupil or group is decided in ``tenants.pupils.selectors``: anything outside it is a
404, whatever the URL. The UPN is never shown, in a page, a URL or a key. Charts are SVG drawn on the
server: no script, nothing from outside the site. School admins must sign in with an authenticator
app (enrolled at their first sign-in, with ten recovery codes); a school admin can require it of all
staff, and anyone else may turn it on. A school's account list is shown to its school admins only.
Until the school has accepted the current Terms of Use, its admins are sent to them from every page
but signing in and out, two-step enrolment and the privacy notice (``middleware``, ``terms_views``)."""
