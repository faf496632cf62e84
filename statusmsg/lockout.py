"""What a locked-out login gets from django-axes: 429 with Retry-After, JSON or the site's page."""

from axes.helpers import get_cool_off
from django.http import JsonResponse
from django.template.response import TemplateResponse


def lockout_response(request, *args, **kwargs):
    """Return the 429 for a login refused by the lock-out."""
    # axes 8.3 passes (request, response, credentials) from its sync middleware but (request,
    # credentials) from the async one (daphne), so only request is relied on.
    cool_off = get_cool_off(request)
    seconds = int(cool_off.total_seconds()) if cool_off else None
    message = "Too many failed login attempts; try again later."
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message, "retry_after": seconds}, status=429)
    else:
        response = TemplateResponse(request, "429.html", {"message": message, "retry_after": seconds}, status=429)
        response.render()
    if seconds:
        response["Retry-After"] = str(seconds)
    return response
