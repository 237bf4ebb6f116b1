"""Data categories, their retention rules and lawful bases, and the classification of every field.

A model is registered with the category its records are kept under (which retention rule applies)
and, field by field, whether the field can hold personal data. Fields marked ``other`` hold none
(keys to other records, flags, amounts, statuses)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Category(StrEnum):
    TAX = "tax"
    CONTRACT = "contract"
    MARKETING = "marketing"
    TECHNICAL = "technical"
    CONFIGURATION = "configuration"
    PUPIL = "pupil"
    DEFAULT = "default"


@dataclass(frozen=True)
class Rule:
    category: Category
    kept_for: str
    counts_from: str
    lawful_basis: str
    controller: str  # "vendor" or "school"
    # A second rule that holds alongside, a sentence of its own (never glued into ``counts_from``).
    also: str = ""


RULES: dict[Category, Rule] = {rule.category: rule for rule in [
    Rule(Category.TAX, "8 years", "the end of the UK tax year the record relates to (5 April)",
         "Legal obligation (tax records)", "vendor"),
    Rule(Category.CONTRACT, "7 years", "the end of the contract or the client's last use of the service, "
         "whichever is later", "Performance of a contract; legitimate interests (legal claims)", "vendor"),
    Rule(Category.MARKETING, "3 years", "the person's last interaction with us",
         "Legitimate interests (business development); consent where given", "vendor"),
    Rule(Category.TECHNICAL, "365 days", "the visit or change", "Legitimate interests (security, support)", "vendor"),
    Rule(Category.CONFIGURATION, "3 months", "the cancellation of the contract",
         "Performance of a contract", "vendor"),
    Rule(Category.PUPIL, "while the pupil is with the school, then for the school's grace period (12 months unless "
         "the school sets another)", "the pupil's leaving date",
         "Processing on the school's documented instructions (the school is the controller)", "school",
         also="a school's whole database is deleted 6 months after its contract is cancelled"),
    Rule(Category.DEFAULT, "7 years", "receipt of the data", "Legitimate interests", "vendor"),
]}


@dataclass(frozen=True)
class ModelPolicy:
    category: Category
    personal: frozenset[str]
    other: frozenset[str]
    # Never handed out, even to the person themselves (password hashes, session blobs).
    withheld: frozenset[str] = frozenset()
    # The fields naming whom a record is about: reached through one of these, the whole record is
    # that person's; reached through another personal link (who recorded it), only that link is.
    about: frozenset[str] = frozenset()

    @property
    def fields(self) -> frozenset[str]:
        return self.personal | self.other


def _policy(category: Category, *, personal: str = "", other: str = "", withheld: str = "", about: str = "") -> ModelPolicy:
    return ModelPolicy(category, frozenset(personal.split()), frozenset(other.split()), frozenset(withheld.split()),
                       frozenset(about.split()))


REGISTRY: dict[str, ModelPolicy] = {
    # public: the vendor's own records
    "schools.School": _policy(Category.CONTRACT, other="schema_name name status signed_up_at cancelled_at schema_dropped_at "
                                                     "migration_fingerprint migration_state migration_error"),
    "schools.Domain": _policy(Category.CONTRACT, other="domain tenant is_primary"),
    "schools.SpareSchema": _policy(Category.DEFAULT, other="schema_name fingerprint created_at"),
    "schools.SchemaRecipe": _policy(Category.DEFAULT, other="fingerprint statements created_at"),
    "operators.Operator": _policy(Category.DEFAULT, personal="user", other="role", about="user"),
    "clients.Contract": _policy(Category.CONTRACT, personal="cancellation_reason",
                                other="school status starts_on ends_on notice_given_on cancelled_on "
                                      "config_files_delete_on schema_drop_on last_used_on created_at"),
    "clients.Contact": _policy(Category.CONTRACT, personal="full_name role email phone address last_interaction_at",
                               other="school is_primary processing_restricted created_at ended_on"),
    "clients.ContactConsent": _policy(Category.CONTRACT, personal="contact given_at given_how withdrawn_at withdrawn_how "
                                                             "recorded_by_id",
                                      other="purpose", about="contact"),
    "clients.ClientAccount": _policy(Category.CONTRACT, personal="email full_name registered_at", other="school"),
    "clients.Correspondence": _policy(Category.CONTRACT, personal="contact subject body occurred_at recorded_by_id",
                                      other="school direction channel", about="contact"),
    "clients.CorrespondenceAttachment": _policy(Category.CONTRACT, personal="file name", other="correspondence size content_type"),
    "clients.Complaint": _policy(Category.CONTRACT, personal="contact summary details resolution",
                                 other="school kind status received_at resolved_at", about="contact"),
    "billing.Invoice": _policy(Category.TAX, personal="notes", other="tax_year school number issued_on due_on status"),
    "billing.InvoiceLine": _policy(Category.TAX, other="invoice description quantity unit_price vat_rate"),
    "billing.Payment": _policy(Category.TAX, personal="reference", other="tax_year invoice paid_on amount method"),
    "billing.CreditNote": _policy(Category.TAX, personal="reason", other="tax_year invoice number issued_on amount"),
    "marketing.Prospect": _policy(Category.MARKETING, personal="full_name role email phone notes last_interaction_at "
                                                        "objected_to_marketing_at", other="organisation processing_restricted created_at"),
    "marketing.ProspectInteraction": _policy(Category.MARKETING, personal="prospect summary recorded_by_id",
                                             other="direction channel occurred_at", about="prospect"),
    "marketing.ProspectConsent": _policy(Category.MARKETING, personal="prospect given_at given_how withdrawn_at "
                                                                "withdrawn_how recorded_by_id",
                                         other="purpose", about="prospect"),
    "technical.Visit": _policy(Category.TECHNICAL, personal="ip user_id path",
                               other="id occurred_at host method status schema_name"),
    "technical.VisitPartitionRows": _policy(Category.TECHNICAL, other="partition rows"),
    # when each automated process last ran, per school (shared.automation): no personal data
    "technical.AutomatedRun": _policy(Category.TECHNICAL, other="process school_id started_at finished_at outcome"),
    "technical.ChangeLogEntry": _policy(Category.TECHNICAL, personal="actor_id object_id",
                                        other="occurred_at actor_kind actor_schema object_schema object_type action fields"),
    # both: operators' accounts in public, the school's users in each school
    "users.User": _policy(Category.CONTRACT, personal="password last_login email full_name date_joined",
                          other="is_superuser role is_active is_staff groups user_permissions", withheld="password"),
    # each school's own schema: the school is the controller
    "pupils.Pupil": _policy(Category.PUPIL, personal="xporter_id external_id forename surname legal_forename legal_surname "
                                              "date_of_birth gender year_group registration_group admission_date "
                                              "leaving_date sen_provision fsm fsm_ever6 pupil_premium eal looked_after "
                                              "ever_in_care service_child ethnicity_code first_language upn user",
                            other="row_hash on_roll processing_restricted processing_objected"),
    "pupils.ParentCarer": _policy(Category.PUPIL, personal="xporter_id title forename surname email phone user children",
                                  other="row_hash processing_restricted processing_objected"),
    "pupils.PupilParent": _policy(Category.PUPIL, personal="pupil parent relationship priority parental_responsibility",
                                  other="xporter_id row_hash", about="pupil parent"),
    "pupils.RetentionSettings": _policy(Category.CONFIGURATION, other="grace_months changed_at"),
    "pupils.Group": _policy(Category.PUPIL, personal="pupils staff", other="xporter_id row_hash kind name"),
    "assessment.Subject": _policy(Category.PUPIL, other="xporter_id name"),
    "assessment.GradeSet": _policy(Category.PUPIL, other="xporter_id name expected_from greater_depth_from"),
    # The school's assessment calendar: who locked a point is the school's user (its own schema)
    "assessment.AssessmentPoint": _policy(Category.PUPIL, personal="locked_by", other="name date locked_at"),
    "assessment.Grade": _policy(Category.PUPIL, other="grade_set label order points"),
    "assessment.Aspect": _policy(Category.PUPIL, other="xporter_id subject name grade_set is_headline"),
    "assessment.Result": _policy(Category.PUPIL, personal="pupil grade recorded_on recorded_by",
                                 other="xporter_id row_hash aspect", about="pupil"),
    "assessment.Target": _policy(Category.PUPIL, personal="pupil grade due_on", other="xporter_id row_hash subject",
                                 about="pupil"),
    "xporter.XporterConnection": _policy(Category.CONFIGURATION, other="base_url estab relying_party secret_sealed "
                                                                "third_party_id enabled cursors last_success_at "
                                                                "last_failure_at last_failure_reason"),
    "xporter.ImportRun": _policy(Category.CONFIGURATION, other="source status started_at finished_at counts error"),
    "configuration.Branding": _policy(Category.CONFIGURATION, other="accent_colour logo logo_content_type changed_at"),
    "configuration.SignInPolicy": _policy(Category.CONFIGURATION, other="staff_second_factor_required changed_at"),
    # a document's content is the school's: it may name people, so title and file count as personal
    "configuration.SchoolDocument": _policy(Category.CONFIGURATION, personal="title original_name file uploaded_by",
                                            other="content_type size uploaded_at"),
    "rights.SchoolRequest": _policy(Category.DEFAULT, personal="requester_name requester_email details refusal_reason "
                                                         "extension_reason pupil parent user subject_label",
                                    other="kind state received_on paused_days paused_since pause_reason "
                                          "clock_started_on fee_reason fee_amount extension_months "
                                          "extension_told_on closed_on vendor_request_id email_verified_on",
                                    about="pupil parent user"),
    "rights.ExportLink": _policy(Category.PUPIL, personal="file", other="request token_digest size created_at expires_at "
                                                                 "downloaded_at"),
    "rights.Consent": _policy(Category.PUPIL, personal="pupil parent purpose given_on withdrawn_on recorded_by",
                              about="pupil parent"),
    "sessions.Session": _policy(Category.TECHNICAL, personal="session_data", other="session_key expire_date",
                                withheld="session_data"),
    "privacy.SubjectRequest": _policy(Category.DEFAULT, personal="requester_name requester_email details refusal_reason "
                                                           "extension_reason subject_contact subject_account "
                                                           "subject_prospect subject_operator subject_label",
                                      other="kind state received_on paused_days paused_since pause_reason "
                                            "clock_started_on fee_reason fee_amount extension_months "
                                            "extension_told_on school forwarded_on closed_on email_verified_on "
                                            "submission_ref",
                                      about="subject_contact subject_account subject_prospect subject_operator"),
    "privacy.VendorExportLink": _policy(Category.DEFAULT, personal="content",
                                        other="request token_digest size created_at expires_at downloaded_at"),
    "privacy.LegalHold": _policy(Category.DEFAULT, personal="person reason owner",
                                 other="starts_on ends_on school category created_at"),
    "privacy.ErasureLedgerEntry": _policy(Category.DEFAULT, other="school schema_name model object_id xporter_digest "
                                                           "request_ref erased_at"),
    "privacy.RetentionShortening": _policy(Category.DEFAULT, other="school category months reason created_at"),
    "privacy.RetentionRun": _policy(Category.DEFAULT, other="as_of started_at finished_at units_deleted"),
    "privacy.DeletionRecord": _policy(Category.DEFAULT, other="kind unit school_id category records_deleted rule "
                                                       "policy_version due_on run executed_at backup_keys_destroyed"),
    # a school's backup key, wrapped by the master key; destroyed with the school's schema
    "backups.SchoolDataKey": _policy(Category.CONTRACT, other="school wrapped_key master_key_id created_at destroyed_at "
                                                       "destroyed_by"),
    # the vendor's accountability registers: free text about a breach or disclosure may name people
    "compliance.Breach": _policy(Category.DEFAULT, personal="summary nature consequences measures ico_decision_reasoning "
                                                     "ico_delay_reason recorded_by_id",
                                 other="occurred_at aware_at people_categories data_categories people_affected "
                                       "records_affected schools risk ico_decision ico_decided_at ico_reported_at "
                                       "ico_reference closed_at created_at"),
    "compliance.BreachNotification": _policy(Category.DEFAULT, personal="recipient content recorded_by_id",
                                             other="breach audience school method notified_at message_id delivery"),
    "compliance.Disclosure": _policy(Category.DEFAULT, personal="recipient people description authorised_by references "
                                                         "recorded_by_id",
                                     other="disclosed_at ground data_categories schools created_at"),
    # the register of recipients told of corrections and erasures (a contact there may be a person), and
    # the tasks of telling them
    "compliance.Recipient": _policy(Category.DEFAULT, personal="name contact how_to_reach recorded_by_id",
                                    other="kind school created_at"),
    "compliance.RecipientHolding": _policy(Category.DEFAULT, personal="person what recorded_by_id",
                                           other="recipient scope school received_on disclosure created_at"),
    "privacy.RecipientTask": _policy(Category.DEFAULT, personal="person recipient_name recipient_reach held evidence "
                                                           "closed_reason resolved_by_id",
                                     other="subject_request school school_request_id recipient_id asked fields "
                                           "opened_at state told_at told_how resolved_at"),
    "compliance.NoticeVersion": _policy(Category.DEFAULT, personal="published_by_id",
                                        other="version published_on text summary created_at"),
    "compliance.TermsVersion": _policy(Category.DEFAULT, personal="published_by_id",
                                       other="version published_on text summary created_at"),
    # a school's acceptance of the terms: a record under the contract, deleted with the client's records
    "compliance.TermsAcceptance": _policy(Category.CONTRACT, personal="user_id user_name user_email accepted_at ip_address",
                                          other="school terms"),
    # support access: the school's permission is a record under the contract; each attempt is
    # technical information (an operator's user id, the page opened)
    "support.SupportAccessRequest": _policy(Category.CONTRACT, personal="operator reason decided_by_user_id decided_by_name "
                                                                 "refusal_reason revoked_by_user_id revoked_by_name",
                                            other="school ticket_reference duration_hours write_allowed state "
                                                  "requested_at decided_at starts_at expires_at revoked_at expiry_notified_at"),
    "support.SupportAccessLog": _policy(Category.TECHNICAL, personal="operator path",
                                        other="grant school occurred_at outcome refusal_reason"),
    # outgoing mail: each message as sent is technical information (365 days from when it was made);
    # an address's mail preferences are marketing information (3 years from their last change)
    "mail.OutgoingMessage": _policy(Category.TECHNICAL, personal="to subject body_text body_html headers last_error",
                                    other="topic template sender from_email school message_id state attempts "
                                          "created_at sent_at failed_at", about="to"),
    "mail.MailPreference": _policy(Category.MARKETING, personal="address unsubscribed", other="changed_at",
                                   about="address"),
}

# The apps whose models must all be registered: ours, and Django's sessions (which hold user ids).
CLASSIFIED_MODULE_PREFIXES = ("shared.", "tenants.")
CLASSIFIED_EXTRA_LABELS = frozenset({"sessions.Session"})


def policy_for(model) -> ModelPolicy:
    return REGISTRY[model._meta.label]
