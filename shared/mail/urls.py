"""The mail footer's pages, included by the vendor host's URLs (config.urls_public)."""

from django.urls import path

from shared.mail import views

urlpatterns = [
    path("mail/preferences/<str:token>/", views.preferences, name="mail_preferences"),
    path("mail/unsubscribe/<str:token>/", views.unsubscribe, name="mail_unsubscribe"),
    path("dev/mailbox/", views.mailbox_list, name="mail_mailbox"),
    path("dev/mailbox/<str:message_id>/", views.mailbox_message, name="mail_mailbox_message"),
    path("dev/mailbox/<str:message_id>/html/", views.mailbox_message_html, name="mail_mailbox_html"),
]
