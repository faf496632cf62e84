"""Item 7: the OpenAPI schema says what the server does: shapes, constraints, encodings, errors."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def operation(schema, path, method):
    return schema["paths"][path][method]


def component(schema, ref_or_name):
    return schema["components"]["schemas"][ref_or_name.rsplit("/", 1)[-1]]


def test_the_task_list_is_documented_as_it_is_sent(schema, api):
    ok = operation(schema, "/api/background-tasks/tasks/", "get")["responses"]["200"]
    page = component(schema, ok["content"]["application/json"]["schema"]["$ref"])
    assert set(page["required"]) == {"tasks", "summary", "count", "next", "previous"}
    assert "results" not in page["properties"]
    assert set(api.get("/api/background-tasks/tasks").json()) == set(page["properties"])


def test_a_tasks_owner_may_be_null(schema):
    assert component(schema, "TaskInfo")["properties"]["owner"]["nullable"] is True


def test_request_bodies_carry_the_servers_constraints(schema):
    bulk_save = component(schema, "BulkSaveRequestRequest")
    assert bulk_save["properties"]["articles"]["minItems"] == 1
    assert bulk_save["additionalProperties"] is False
    article = component(schema, bulk_save["properties"]["articles"]["items"]["$ref"])
    assert article["additionalProperties"] is False and article["properties"]["url"]["pattern"].startswith("^https?://")
    assert article["properties"]["content"]["maxLength"] == 200_000
    urls = component(schema, "BulkAnalysisRequestRequest")["properties"]["urls"]
    assert urls["minItems"] == 1 and urls["uniqueItems"] is True
    cleanup = component(schema, "CleanupRequestRequest")["properties"]["max_age_hours"]
    assert cleanup["type"] == "integer" and cleanup["minimum"] == 0
    assert component(schema, "CreateNotificationRequest")["properties"]["title"]["minLength"] == 1


def test_json_only_endpoints_advertise_json_only(schema):
    for path in ("/api/background-tasks/bulk-save/", "/api/background-tasks/bulk-analysis/",
                 "/api/background-tasks/cleanup/", "/api/notifications/create/"):
        assert list(operation(schema, path, "post")["requestBody"]["content"]) == ["application/json"], path


@pytest.mark.parametrize("path, method, codes", [
    ("/api/background-tasks/bulk-save/", "post", {"202", "400", "401", "403", "413", "415", "429"}),
    ("/api/background-tasks/task/{task_id}/", "get", {"200", "401", "404", "429"}),
    ("/api/background-tasks/task/{task_id}/", "delete", {"200", "401", "403", "404", "409", "429"}),
    ("/api/background-tasks/auto-ingest/", "post", {"202", "401", "403", "409", "429"}),
    ("/api/background-tasks/cleanup/", "post", {"200", "400", "401", "403", "413", "415", "429"}),
    ("/api/background-tasks/tasks/", "get", {"200", "400", "401", "429"}),
    ("/api/auth/token/", "post", {"200", "400", "401", "413", "415", "429"}),
    ("/api/notifications/create/", "post", {"201", "400", "401", "403", "413", "415", "429"}),
])
def test_every_error_an_endpoint_can_give_is_documented_with_a_body(schema, path, method, codes):
    responses = operation(schema, path, method)["responses"]
    assert codes <= set(responses)
    for code in codes - {"200", "201", "202"}:
        assert "application/json" in responses[code]["content"], code


def test_the_list_parameters_say_their_bounds(schema):
    listed = operation(schema, "/api/background-tasks/tasks/", "get")["parameters"]
    parameters = {parameter["name"]: parameter["schema"] for parameter in listed}
    assert parameters["limit"]["minimum"] == 1 and parameters["limit"]["maximum"] == 500
    assert parameters["offset"]["minimum"] == 0


def test_query_parameters_take_the_empty_value_as_the_views_do(schema, api):
    for path in ("/api/background-tasks/tasks/", "/api/notifications/"):
        for parameter in operation(schema, path, "get")["parameters"]:
            assert parameter["allowEmptyValue"] is True, (path, parameter["name"])
    assert api.get("/api/notifications/?unread_only=&limit=").status_code == 200
    assert api.get("/api/background-tasks/tasks/?status=&kind=&limit=&offset=").status_code == 200


def test_staff_only_operations_document_their_403(schema):
    for path, method in (("/api/background-tasks/cleanup/", "post"), ("/api/background-tasks/auto-ingest/", "post"),
                         ("/api/notifications/create/", "post")):
        assert "403" in operation(schema, path, method)["responses"], path
