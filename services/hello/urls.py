from django.urls import path

from . import notes, views

app_name = "hello"
urlpatterns = [
    path("", views.HelloView.as_view(), name="index"),
    path("greet/<str:name>", views.GreetView.as_view(), name="greet"),
    path("legacy", views.LegacyView.as_view(), name="legacy"),
    path("notes", notes.NotesView.as_view(), name="notes"),
    path("notes/<int:pk>", notes.NoteView.as_view(), name="note"),
    path("notes/<int:pk>/share", notes.ShareView.as_view(), name="share"),
]
