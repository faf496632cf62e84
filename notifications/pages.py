"""The /notifications/ inbox page; the page's script reads and changes the inbox through the API."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET


@login_required
@require_GET
def inbox(request):
    """Render the inbox shell; the script inline in templates/notifications/inbox.html fills it from the API."""
    return render(request, "notifications/inbox.html")
