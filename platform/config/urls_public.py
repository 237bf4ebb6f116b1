"""URLs of the vendor's public host (the bare ``BASE_DOMAIN``): landing page and operator console."""

from django.urls import path

from console import views

urlpatterns = [
    path("", views.landing, name="landing"),
    path("console/", views.home, name="home"),
    path("console/login/", views.OperatorLoginView.as_view(), name="login"),
    path("console/logout/", views.OperatorLogoutView.as_view(), name="logout"),
]
