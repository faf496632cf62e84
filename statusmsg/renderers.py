"""DRF's browsable API under the site's CSP, with the one relaxation its pages need."""

from django.conf import settings
from django.utils.csp import CSP
from rest_framework import renderers


def inline_styles_csp() -> dict:
    """Return the site's CSP with inline <style> elements allowed; scripts stay nonce-only.

    Swagger UI, Redoc and the browsable API's jQuery/Bootstrap add <style> elements at run time.
    """
    return {**settings.SECURE_CSP, "style-src": [CSP.SELF, CSP.UNSAFE_INLINE]}


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None:
            response._csp_config = inline_styles_csp()  # read by ContentSecurityPolicyMiddleware
        return super().render(data, accepted_media_type, renderer_context)
