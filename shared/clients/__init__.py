"""The vendor's records of its clients (controller data, in ``public``): contracts, the people at
each school the vendor deals with, the log-in accounts clients register, correspondence and
complaints, and the contacts' consents to optional communications (``OptionalMail``: product news,
webinars). Those rest on consent alone, so each goes only to ``selectors.contacts_for_optional_mail``:
a withdrawal takes the contact off it from that moment, and no consent means not on it."""
