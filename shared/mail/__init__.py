"""Outgoing mail (in ``public``): every message the product sends, recorded then delivered by a
worker over SMTP.

``services.mail_send`` renders a template (plain text and HTML, extending ``mail/base.txt`` and
``mail/base.html``), refuses a link to any host that is not the product's, records the message
(``OutgoingMessage``) and asks the worker to deliver it once the transaction commits
(``tasks.mail_deliver``: retried with backoff, then set aside in the broker's dead letters and the
row marked failed with the reason). A row already sent is never sent again.

Each message has a topic (``topics.Topic``): the service-critical ones are always sent, and say so
in their footer; the others carry RFC 8058 one-click unsubscribe headers and honour the
preferences each address sets on its own page (``MailPreference``, reached without signing in
through the signed link in every footer)."""
