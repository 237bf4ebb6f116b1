"""What a message is about, which decides whether the person can turn it off."""

from __future__ import annotations

from enum import StrEnum


class Topic(StrEnum):
    # Service-critical: always sent.
    SECURITY = "security"  # sign-in, password reset, invitations
    REQUESTS = "requests"  # the person's own data requests
    LEGAL = "legal"  # breach notices, privacy-notice and terms changes
    SUPPORT = "support"  # support-access requests to school admins
    ALERTS = "alerts"  # the DPO's alerts
    # Non-critical: the person chooses.
    PRODUCT_NEWS = "product_news"
    WEBINARS = "webinars"
    MARKETING = "marketing"

    @property
    def critical(self) -> bool:
        return self in CRITICAL

    @property
    def label(self) -> str:
        return LABELS[self]

    @property
    def why(self) -> str:
        """Why a critical topic is always sent (shown in its footer and on the preferences page)."""
        return WHY.get(self, "")


CRITICAL = frozenset({Topic.SECURITY, Topic.REQUESTS, Topic.LEGAL, Topic.SUPPORT, Topic.ALERTS})

LABELS = {
    Topic.SECURITY: "Sign-in and account security",
    Topic.REQUESTS: "Your data requests",
    Topic.LEGAL: "Legal notices",
    Topic.SUPPORT: "Support access requests",
    Topic.ALERTS: "Data protection alerts",
    Topic.PRODUCT_NEWS: "Product news",
    Topic.WEBINARS: "Webinars and training",
    Topic.MARKETING: "Offers and marketing",
}

WHY = {
    Topic.SECURITY: "it keeps your account safe: sign-in links, password resets and invitations",
    Topic.REQUESTS: "it answers a request you made about your own data",
    Topic.LEGAL: "the law or our terms require us to tell you: a data breach, or a change to the privacy "
                 "notice or the terms of use",
    Topic.SUPPORT: "your school must decide whether our support staff may see its data",
    Topic.ALERTS: "a data protection officer must hear of it to do their job",
}


def optional_topics() -> list[Topic]:
    return [topic for topic in Topic if not topic.critical]


def critical_topics() -> list[Topic]:
    return [topic for topic in Topic if topic.critical]
