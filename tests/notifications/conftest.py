import pytest

from notifications import services


@pytest.fixture
def notify():
    """Create a notification through the use case and return its id."""

    def make(recipient, title="Hello", type="system", message="Body", link=None):
        return services.create_notification(recipient, type, title, message, link)

    return make


@pytest.fixture
def newcomer(django_user_model):
    return django_user_model.objects.create_user("carol", password="carol-password")
