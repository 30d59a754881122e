"""Notes shared per object with django-guardian: the object-permission example.

A note's author can view and change it and share it with another user, who
then can view it; nobody else learns it exists.
"""

from django.conf import settings
from django.db import models


class Note(models.Model):
    """A short text with per-object permissions."""

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notes"
    )
    text = models.CharField(max_length=500)

    def __str__(self) -> str:
        return self.text[:40]
