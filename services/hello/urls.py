from django.urls import path

from . import views

app_name = "hello"
urlpatterns = [
    path("", views.HelloView.as_view(), name="index"),
    path("greet/<str:name>", views.GreetView.as_view(), name="greet"),
    path("legacy", views.LegacyView.as_view(), name="legacy"),
]
