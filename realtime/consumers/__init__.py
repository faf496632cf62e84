"""The WebSocket consumers: one job, a topic's jobs, and a user's job feed."""

from .jobs import BulkProcessConsumer, TaskFeedConsumer, TopicConsumer

__all__ = ["BulkProcessConsumer", "TaskFeedConsumer", "TopicConsumer"]
