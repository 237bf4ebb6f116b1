"""Sync positions are kept per changeset (endpoint with its exact options and parameters), not
per endpoint; every stored position is dropped, so each changeset restarts at ``*``.

Why none is carried over: the client that stored them read ``NextChangedRows`` at the top level
of the answer, where Xporter never puts it (it sits in ``__changedRows__[0]``), so against the
real service it stored nothing; whatever is stored came from the local fake, whose old tokens it
no longer knows. ``assessmentresults`` is now asked with an ``Aspects`` filter, a different
changeset from the unfiltered one. A restart costs one full fetch; rows whose RowHash is unchanged
are skipped by the import. A ``*`` answer lists nothing in ``_deleted``: a row that went away since
the last sync stays until the next change to it (a pupil who left carries a LeavingDate).
"""

from django.db import migrations, models

# Plain SQL without parameters: school schemas are built by replaying recorded statements.
CURSORS_DROP = "UPDATE xporter_xporterconnection SET cursors = '{}'::jsonb WHERE cursors <> '{}'::jsonb"


class Migration(migrations.Migration):

    dependencies = [
        ("xporter", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="xporterconnection",
            name="cursors",
            field=models.JSONField(blank=True, default=dict,
                                   help_text="NextChangedRows per changeset: endpoint with its exact options and parameters."),
        ),
        migrations.RunSQL(CURSORS_DROP, migrations.RunSQL.noop),
    ]
