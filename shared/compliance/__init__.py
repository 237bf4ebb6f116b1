"""The vendor's accountability records (in ``public``), one module per register, each holding its
writes (HackSoft ``<entity>_<action>`` services) and its reads:

- ``breaches``: the personal-data breach register (record, assessment, the decision whether to
  report, the ICO report, notifications of schools and people, closing) and the dashboard's list of
  reports due; ``breach_report_deadline`` is the pure computation of the ICO's 72-hour deadline and
  where a report stands against it;
- ``disclosures``: the register of disclosures to third parties on the privacy notice's grounds;
- ``recipients``: the register of recipients (who received whose data: the host, a disclosure's
  recipient, anyone an export went to) and ``recipient_tasks_open``, which opens a task per recipient
  for a correction or an erasure (the tasks themselves: ``shared.privacy.requests.recipient_tasks``);
- ``vendor_answers``: the vendor's correction and erasure of its own records
  (``shared.privacy.requests.vendor_tools``) with those tasks opened in the same transaction;
- ``notices``: the published versions of the privacy notice shown on every site (the notice's page
  and its "seen it" cookie are in ``views``, its footer and banner in ``templatetags``);
- ``terms_of_use``: the published versions of the Terms of Use (the data-processing terms, Article
  28(3); version 1's text in ``terms/``) and each school's acceptance of them;
- ``processing``: the record of processing (Article 30), generated from the personal-data registry,
  naming for each school the version of the terms it accepted.

``validation`` holds the checks the registers share."""
