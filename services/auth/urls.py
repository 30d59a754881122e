from django.contrib.auth.views import LoginView, LogoutView
from django.urls import path

from . import views

app_name = "auth"
urlpatterns = [
    path("login", LoginView.as_view(template_name="joule/login.html"), name="login"),
    path("logout", LogoutView.as_view(), name="logout"),
    path("token", views.TokenView.as_view(), name="token"),
    path("verify", views.VerifyView.as_view(), name="verify"),
]
