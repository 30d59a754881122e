"""Views of the notes example: django-guardian object permissions in a service.

GET  /hello/notes                the notes the caller may view
POST /hello/notes                {"text": ...}: a note only its author sees
GET  /hello/notes/<id>           404 unless the caller may view it
POST /hello/notes/<id>/share     {"username": ...}: the author shares it
"""

from django.contrib.auth import get_user_model
from guardian.shortcuts import assign_perm, get_objects_for_user
from rest_framework import permissions, serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from .models import Note


class NoteSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", read_only=True)

    class Meta:
        model = Note
        fields = ("id", "text", "author")


def visible(user):
    return get_objects_for_user(user, "hello.view_note", klass=Note)


class NotesView(APIView):
    """List the notes the caller may view; write a new one."""

    permission_classes = (permissions.IsAuthenticated,)

    def get(self, request):
        return Response(NoteSerializer(visible(request.user), many=True).data)

    def post(self, request):
        serializer = NoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        note = serializer.save(author=request.user)
        for permission in ("hello.view_note", "hello.change_note"):
            assign_perm(permission, request.user, note)
        return Response(NoteSerializer(note).data, status=201)


class NoteView(APIView):
    """One note, for those who may view it (404 for the others)."""

    permission_classes = (permissions.IsAuthenticated,)

    def get(self, request, pk):
        note = visible(request.user).filter(pk=pk).first()
        if note is None:
            raise NotFound("No note with that id")
        return Response(NoteSerializer(note).data)


class ShareView(APIView):
    """Let another user view a note; only who may change it can share it."""

    permission_classes = (permissions.IsAuthenticated,)

    def post(self, request, pk):
        note = visible(request.user).filter(pk=pk).first()
        if note is None:
            raise NotFound("No note with that id")
        if not request.user.has_perm("hello.change_note", note):
            self.permission_denied(request, message="Only the author shares a note")
        username = request.data.get("username")
        other = get_user_model().objects.filter(username=username).first()
        if not isinstance(username, str) or other is None:
            raise ValidationError({"username": "No user with that name"})
        assign_perm("hello.view_note", other, note)
        return Response({"shared": note.pk, "with": username})
