"""URLs of a school site (``<subdomain>.<BASE_DOMAIN>``), resolved inside the school's schema.
Pupils are addressed by their internal id: never by UPN."""

from django.urls import path

from portal import analysis_views, rights_views, signin_views, support_views, terms_views, views, xporter_views
from shared.compliance import views as privacy

urlpatterns = [
    path("", views.home, name="home"),
    path("pupils/", views.pupil_list, name="pupil_list"),
    path("pupils/<int:pupil_id>/", views.pupil_detail, name="pupil_detail"),
    path("pupils/<int:pupil_id>/report/", views.pupil_report, name="pupil_report"),
    path("groups/<int:group_id>/marksheet/", views.marksheet, name="marksheet"),
    path("analysis/", analysis_views.cohort_analysis, name="cohort_analysis"),
    path("analysis/transition/", analysis_views.transition_matrix, name="transition_matrix"),
    path("analysis/transition/pupils/", analysis_views.transition_pupils, name="transition_pupils"),
    path("analysis/no-result/", analysis_views.pupils_without_result, name="pupils_without_result"),
    path("users/", views.users, name="users"),
    path("users/invite-parents/", views.parent_invitations, name="parent_invitations"),
    path("import/", views.data_import, name="data_import"),
    path("import/results/", views.results_upload, name="results_upload"),
    path("import/xporter/", xporter_views.xporter_settings, name="xporter_settings"),
    path("retention/", views.retention, name="retention"),
    path("settings/", views.school_settings, name="school_settings"),
    path("settings/assessment/", views.assessment_calendar, name="assessment_calendar"),
    path("settings/automated-processes/", views.automated_processes, name="automated_processes"),
    path("rights/", rights_views.request_list, name="rights"),
    path("rights/<int:request_id>/", rights_views.request_detail, name="rights_request"),
    path("rights/exports/<str:token>/", rights_views.export_download, name="rights_export"),
    path("rights/identity/<str:token>/", rights_views.identity_confirm, name="rights_identity"),
    path("rights/consents/", rights_views.consents, name="consents"),
    path("rights/recipients/", rights_views.recipients, name="rights_recipients"),
    path("privacy/", privacy.privacy_notice, name="privacy_notice"),
    path("privacy/versions/<str:version>/", privacy.privacy_notice, name="privacy_notice_version"),
    path("privacy/seen/", privacy.privacy_notice_seen, name="privacy_notice_seen"),
    path("support/", support_views.support_access, name="support_access"),
    path("terms/", terms_views.terms_of_use_page, name="terms_of_use"),
    path("documents/<int:document_id>/", views.document_download, name="document_download"),
    path("branding/logo/", views.branding_logo, name="branding_logo"),
    path("branding/theme.css", views.branding_theme, name="branding_theme"),
    path("accounts/login/", signin_views.SchoolLoginView.as_view(), name="login"),
    path("accounts/login/code/", signin_views.login_code, name="login_code"),
    path("accounts/two-step/", signin_views.second_factor, name="second_factor"),
    path("accounts/logout/", views.SchoolLogoutView.as_view(), name="logout"),
    path("accounts/password-reset/", signin_views.password_reset, name="password_reset"),
    path("accounts/password-reset/sent/", signin_views.password_reset_sent, name="password_reset_sent"),
    path("accounts/password-reset/done/", signin_views.password_reset_complete, name="password_reset_complete"),
    path("accounts/password-reset/<uidb64>/<token>/", signin_views.SchoolResetConfirmView.as_view(),
         name="password_reset_confirm"),
    path("accounts/set-password/done/", views.SetPasswordDoneView.as_view(), name="set_password_done"),
    path("accounts/set-password/<uidb64>/<token>/", views.SetPasswordView.as_view(), name="set_password"),
]

handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"
