from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "shared.compliance"
    label = "compliance"
    verbose_name = "Compliance"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from shared.compliance.models import NoticeVersion, TermsAcceptance, TermsVersion
        from shared.compliance.notices import NOTICE_VERSIONS
        from shared.compliance.terms_of_use import TERMS_DUE

        # The per-page lookups kept in each process (shared.process_cache) read again everywhere
        # after any write to what they hold. (Neither model is written with queryset.update().)
        for model, cache in ((NoticeVersion, NOTICE_VERSIONS), (TermsVersion, TERMS_DUE), (TermsAcceptance, TERMS_DUE)):
            def changed(*, _cache=cache, **_):
                _cache.invalidate()

            for signal in (post_save, post_delete):
                signal.connect(changed, sender=model, weak=False,
                               dispatch_uid=f"process-cache-{model.__name__}-{signal is post_save}")
