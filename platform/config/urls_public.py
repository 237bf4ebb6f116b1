"""URLs of the vendor's public host (the bare ``BASE_DOMAIN``): landing page, operator console, health."""

from django.urls import path

from config.health import HealthView
from console.admin_site import raw_data_site
from console.views import auth, billing, clients, marketing, requests, retention, technical
from console.views import compliance
from shared.compliance import views as privacy
from console.views import support

urlpatterns = [
    path("", clients.landing, name="landing"),
    path("health/", HealthView.as_view(), name="health"),
    path("privacy/", privacy.privacy_notice, name="privacy_notice"),
    path("privacy/versions/<str:version>/", privacy.privacy_notice, name="privacy_notice_version"),
    path("privacy/seen/", privacy.privacy_notice_seen, name="privacy_notice_seen"),
    path("console/login/", auth.OperatorLoginView.as_view(), name="login"),
    path("console/logout/", auth.OperatorLogoutView.as_view(), name="logout"),
    path("console/", clients.dashboard, name="home"),
    path("console/clients/", clients.client_list, name="client_list"),
    path("console/clients/new/", clients.client_onboard, name="client_onboard"),
    path("console/clients/<int:school_id>/", clients.client_detail, name="client_detail"),
    path("console/clients/<int:school_id>/cancel/", clients.contract_cancel, name="contract_cancel"),
    path("console/clients/<int:school_id>/cancel/undo/", clients.contract_cancellation_undo, name="contract_cancel_undo"),
    path("console/clients/<int:school_id>/contacts/new/", clients.contact_edit, name="contact_new"),
    path("console/clients/<int:school_id>/contacts/<int:contact_id>/", clients.contact_edit, name="contact_edit"),
    path("console/clients/<int:school_id>/correspondence/new/", clients.correspondence_new, name="correspondence_new"),
    path("console/clients/<int:school_id>/attachments/<int:attachment_id>/", clients.correspondence_attachment,
         name="correspondence_attachment"),
    path("console/clients/<int:school_id>/complaints/new/", clients.complaint_new, name="complaint_new"),
    path("console/clients/<int:school_id>/invoices/new/", billing.invoice_new, name="invoice_new"),
    path("console/complaints/", clients.complaint_list, name="complaint_list"),
    path("console/complaints/<int:complaint_id>/", clients.complaint_detail, name="complaint_detail"),
    path("console/invoices/", billing.invoice_list, name="invoice_list"),
    path("console/invoices/<int:invoice_id>/", billing.invoice_detail, name="invoice_detail"),
    path("console/invoices/<int:invoice_id>/payments/", billing.payment_new, name="payment_new"),
    path("console/invoices/<int:invoice_id>/credit-notes/", billing.credit_note_new, name="credit_note_new"),
    path("console/prospects/", marketing.prospect_list, name="prospect_list"),
    path("console/prospects/new/", marketing.prospect_new, name="prospect_new"),
    path("console/prospects/<int:prospect_id>/", marketing.prospect_detail, name="prospect_detail"),
    path("console/prospects/<int:prospect_id>/object/", marketing.prospect_object, name="prospect_object"),
    path("console/technical/changes/", technical.change_log, name="change_log"),
    path("console/technical/visits/", technical.visit_log, name="visit_log"),
    path("console/technical/dead-letters/", technical.dead_letters, name="dead_letters"),
    path("console/retention/", retention.retention_overview, name="retention"),
    path("console/requests/", requests.request_list, name="subject_requests"),
    path("console/requests/<int:request_id>/", requests.request_detail, name="subject_request"),
    path("console/requests/<int:request_id>/export/", requests.request_export, name="subject_request_export"),
    path("console/retention/holds/<int:hold_id>/lift/", retention.legal_hold_lift, name="legal_hold_lift"),
    path("console/retention/certificates/<int:school_id>/", retention.destruction_certificate,
         name="destruction_certificate"),
    path("console/clients/<int:school_id>/export/", retention.school_data_export, name="school_export"),
    path("console/compliance/breaches/", compliance.breach_list, name="breach_list"),
    path("console/compliance/breaches/new/", compliance.breach_new, name="breach_new"),
    path("console/compliance/breaches/<int:breach_id>/", compliance.breach_detail, name="breach_detail"),
    path("console/compliance/breaches/<int:breach_id>/edit/", compliance.breach_edit, name="breach_edit"),
    path("console/compliance/breaches/<int:breach_id>/decision/", compliance.breach_decision, name="breach_decision"),
    path("console/compliance/breaches/<int:breach_id>/report/", compliance.breach_report, name="breach_report"),
    path("console/compliance/breaches/<int:breach_id>/notifications/", compliance.breach_notification,
         name="breach_notification"),
    path("console/compliance/breaches/<int:breach_id>/close/", compliance.breach_close, name="breach_close"),
    path("console/compliance/disclosures/", compliance.disclosure_list, name="disclosure_list"),
    path("console/compliance/disclosures/new/", compliance.disclosure_new, name="disclosure_new"),
    path("console/compliance/disclosures/<int:disclosure_id>/", compliance.disclosure_detail, name="disclosure_detail"),
    path("console/compliance/processing/", compliance.processing_record, name="processing_record"),
    path("console/compliance/processing.csv", compliance.processing_record_csv, name="processing_record_csv"),
    path("console/compliance/notice/", compliance.notice_versions, name="notice_versions"),
    path("console/support/", support.support_request_list, name="support_requests"),
    path("console/support/clients/<int:school_id>/request/", support.support_request_new, name="support_request_new"),
    path("console/support/clients/<int:school_id>/pupils/", support.support_pupil_list, name="support_pupil_list"),
    path("console/support/clients/<int:school_id>/pupils/<int:pupil_id>/", support.support_pupil_detail,
         name="support_pupil_detail"),
    path("console/raw/", raw_data_site.urls),
]

handler400 = "config.errors.bad_request"
