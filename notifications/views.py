"""REST endpoints of /api/notifications: thin views over the notification use cases."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from statusmsg.api_input import validated
from statusmsg.api_schema import STAFF_ONLY, ErrorSerializer
from statusmsg.throttling import AnonRateThrottle, UserPollRateThrottle

from . import queries, services
from .exceptions import NotificationNotFound
from .serializers import (
    CountSerializer,
    CreateNotificationSerializer,
    NotificationCreatedSerializer,
    NotificationListQuerySerializer,
    NotificationListSerializer,
    NotificationSerializer,
    SuccessSerializer,
)

NOT_FOUND = OpenApiResponse(ErrorSerializer, "Not yours, or no such notification")


class NotificationListView(APIView):
    @extend_schema(parameters=[NotificationListQuerySerializer], responses={200: NotificationListSerializer})
    def get(self, request):
        # An empty parameter (`?unread_only=&limit=`) means its default.
        given = {key: value for key, value in request.query_params.items() if value != ""}
        query = NotificationListQuerySerializer(data=given)
        query.is_valid(raise_exception=True)
        rows = queries.get_user_notifications(request.user, **query.validated_data)
        # The total, as the task list's `count` is, so a client can tell a full page from the end.
        count = queries.count_user_notifications(request.user, unread_only=query.validated_data["unread_only"])
        return Response({"notifications": NotificationSerializer(rows, many=True).data, "count": count})


class UnreadCountView(APIView):
    # Badges poll this cheap read: its per-user limit counts in the process, not in Redis (DRF's
    # would add a cache get and set to every poll). Anonymous calls are refused (401) before any
    # throttle runs; the API's exception handler counts those against the anon rate.
    throttle_classes = [AnonRateThrottle, UserPollRateThrottle]

    @extend_schema(responses={200: CountSerializer})
    def get(self, request):
        return Response({"count": queries.get_unread_count(request.user)})


class MarkReadView(APIView):
    @extend_schema(request=None, responses={200: SuccessSerializer, 404: NOT_FOUND})
    def post(self, request, notification_id):
        if not services.mark_notification_as_read(notification_id, request.user):
            raise NotificationNotFound()
        return Response({"success": True})


class MarkAllReadView(APIView):
    @extend_schema(request=None, responses={200: CountSerializer})
    def post(self, request):
        return Response({"count": services.mark_all_notifications_as_read(request.user)})


class NotificationDetailView(APIView):
    @extend_schema(responses={200: SuccessSerializer, 404: NOT_FOUND})
    def delete(self, request, notification_id):
        if not services.delete_notification(notification_id, request.user):
            raise NotificationNotFound()
        return Response({"success": True})


class DeleteReadView(APIView):
    @extend_schema(responses={200: CountSerializer})
    def delete(self, request):
        return Response({"count": services.delete_read_notifications(request.user)})


class CreateNotificationView(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        request=CreateNotificationSerializer,
        responses={201: NotificationCreatedSerializer, 403: STAFF_ONLY},
    )
    def post(self, request):
        data = validated(CreateNotificationSerializer, request.data)
        # An unknown username comes back from the use case as a 400 on the username field.
        notification_id = services.create_notification(
            data["username"], data["type"], data["title"], data["message"], data["link"]
        )
        return Response({"notification_id": notification_id}, status=status.HTTP_201_CREATED)
