"""URLs of a school site (``<subdomain>.<BASE_DOMAIN>``), resolved inside the school's schema."""

from django.urls import path

from tenants.portal import views

urlpatterns = [
    path("", views.dashboard, name="home"),
    path("accounts/login/", views.SchoolLoginView.as_view(), name="login"),
    path("accounts/logout/", views.SchoolLogoutView.as_view(), name="logout"),
    path("accounts/set-password/done/", views.SetPasswordDoneView.as_view(), name="set_password_done"),
    path("accounts/set-password/<uidb64>/<token>/", views.SetPasswordView.as_view(), name="set_password"),
]
