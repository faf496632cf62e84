"""POST /api/auth/token: DRF's ObtainAuthToken, bounded, throttled and watched by django-axes."""

from django.contrib.auth.signals import user_logged_in
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import parsers, serializers
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import AuthenticationFailed, ValidationError
from rest_framework.response import Response

from statusmsg.api_schema import ErrorSerializer
from statusmsg.parsers import BoundedJSONParser
from statusmsg.throttling import AnonRateThrottle


class StrictAuthTokenSerializer(AuthTokenSerializer):
    """The credentials, bounded: a megabyte password would only cost a hash's worth of CPU more."""

    username = serializers.CharField(label="Username", max_length=150, write_only=True)
    password = serializers.CharField(label="Password", max_length=4096, write_only=True,
                                     style={"input_type": "password"}, trim_whitespace=False)


class TokenView(ObtainAuthToken):
    # ObtainAuthToken sets its own parsers and no throttle, so the REST_FRAMEWORK defaults
    # never reach it: both are set here. A form body cannot nest, so it stays accepted.
    parser_classes = (BoundedJSONParser, parsers.FormParser)
    throttle_classes = (AnonRateThrottle,)
    # The credentials are in the body; a logged-in browser's session must not ask for CSRF here.
    authentication_classes = ()
    serializer_class = StrictAuthTokenSerializer

    def get_serializer_context(self):
        # django-axes marks the request it is given as locked out, and its middleware reads that
        # mark from Django's HttpRequest, not from DRF's wrapper: hand authenticate() the former.
        return {**super().get_serializer_context(), "request": self.request._request}

    def get_authenticate_header(self, request):
        return "Token"

    @extend_schema(
        operation_id="auth_token_create",
        request=StrictAuthTokenSerializer,
        responses={200: inline_serializer("Token", {"token": serializers.CharField()}),
                   401: OpenApiResponse(ErrorSerializer, "Wrong username or password")},
        auth=[],
    )
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid():
            # Wrong credentials are a 401, as everywhere else in the API; a malformed body a 400.
            if any(error.code == "authorization" for error in serializer.errors.get("non_field_errors", [])):
                raise AuthenticationFailed(serializer.errors["non_field_errors"][0])
            raise ValidationError(serializer.errors)
        user = serializer.validated_data["user"]
        # A token is a login: the signal lets django-axes clear the failures (AXES_RESET_ON_SUCCESS)
        # and Django record last_login, as the login page does.
        user_logged_in.send(sender=user.__class__, request=request._request, user=user)
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


obtain_auth_token = TokenView.as_view()
