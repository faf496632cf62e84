"""Item 1: no JSON body crashes the server; too deep, malformed or unstorable input is a 400 with a reason."""

import json
import time

import pytest
from rest_framework.test import APIClient

from jobs.models import TaskInfo
from statusmsg.parsers import MAX_JSON_DEPTH, loads_bounded, nesting_exceeds

pytestmark = pytest.mark.django_db

BULK_SAVE = "/api/background-tasks/bulk-save"
TOKEN = "/api/auth/token"


def post(client, path, body, content_type="application/json"):
    return client.post(path, body, content_type=content_type)


@pytest.fixture
def raw_api(user):
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    return client


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("path", [TOKEN, BULK_SAVE, "/api/background-tasks/cleanup",
                                  "/api/notifications/create", "/api/background-tasks/keyword-check"])
def test_fifty_thousand_brackets_are_a_quick_400_with_a_reason(raw_api, staff_api, path):
    client = staff_api if "create" in path or "cleanup" in path else raw_api
    started = time.monotonic()
    response = post(client, path, "[" * 50_000)
    assert response.status_code == 400, response.content
    assert f"deeper than {MAX_JSON_DEPTH}" in response.json()["detail"]
    assert time.monotonic() - started < 1


def test_anonymous_deep_json_on_the_token_endpoint_is_a_400_not_a_debug_page(db):
    response = APIClient(raise_request_exception=False).post(TOKEN, "[" * 50_000 + "]" * 50_000,
                                                             content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "DATABASES" not in response.content.decode()


def test_depth_64_is_accepted_and_65_is_refused(raw_api):
    # {"articles": [ … ]} is two levels; the rest is nested lists inside the list.
    ok = post(raw_api, BULK_SAVE, '{"articles": [' + nested(MAX_JSON_DEPTH - 2) + "]}")
    too_deep = post(raw_api, BULK_SAVE, '{"articles": [' + nested(MAX_JSON_DEPTH - 1) + "]}")
    assert ok.status_code == 400 and "deeper" not in json.dumps(ok.json())  # parsed; refused by fields
    assert too_deep.status_code == 400 and "deeper than 64" in too_deep.json()["detail"]


def test_brackets_inside_strings_do_not_count(raw_api):
    title = "[" * 500 + '{"\\[' + "{" * 500
    body = {"articles": [{"url": "https://example.com/a", "title": title[:500]}]}
    response = post(raw_api, BULK_SAVE, json.dumps(body))
    assert response.status_code == 202, response.content


@pytest.mark.parametrize("body, content_type", [
    ('{"articles":', "application/json"),
    ('{"articles": NaN}', "application/json"),
    (b'{"articles": "\xff"}', "application/json"),
    ("{}", "application/json; charset=bz2_codec"),
    ("{}", "application/json; charset=no-such-charset"),  # read as UTF-8: {} lacks articles
])
def test_malformed_json_is_a_400(raw_api, body, content_type):
    response = post(raw_api, BULK_SAVE, body, content_type)
    assert response.status_code == 400, response.content
    assert response.json()  # a reason: {"detail": …} or the field errors
    assert not TaskInfo.objects.exists()


def test_another_declared_charset_is_decoded(raw_api):
    body = json.dumps({"articles": [{"url": "https://example.com/e", "title": "é"}]}).encode("utf-16")
    assert post(raw_api, BULK_SAVE, body, "application/json; charset=utf-16").status_code == 202


@pytest.mark.parametrize("text", ['"a\\u0000b"', '"\\ud800"', '"x\\udc00"', '"\\udfff\\ud800"'])
@pytest.mark.parametrize("where", ["title", "key"])
def test_nul_and_lone_surrogates_are_a_400(raw_api, text, where):
    field = f'"title": {text}' if where == "title" else f'{text}: "v"'
    response = post(raw_api, BULK_SAVE, '{"articles": [{"url": "https://example.com/x", ' + field + "}]}")
    assert response.status_code == 400, response.content
    assert not TaskInfo.objects.exists()


def test_a_surrogate_pair_is_an_ordinary_character(raw_api):
    body = '{"articles": [{"url": "https://example.com/x", "title": "\\ud83d\\ude00"}]}'
    assert post(raw_api, BULK_SAVE, body).status_code == 202


def test_non_object_bodies_are_a_400_everywhere(raw_api):
    for body in ("null", "[]", '"text"', "3"):
        assert post(raw_api, "/api/background-tasks/keyword-check", body).status_code == 400, body


def test_form_and_multipart_bodies_are_415_on_json_endpoints(raw_api):
    response = raw_api.post(BULK_SAVE, {"articles": "x"}, format="multipart")
    assert response.status_code == 415


def test_the_depth_check_is_linear_on_a_five_megabyte_attack():
    body = b"[" * (2_500_000) + b"]" * 2_500_000
    started = time.monotonic()
    assert nesting_exceeds(body)
    assert time.monotonic() - started < 1
    with pytest.raises(ValueError, match="deeper than 64"):
        loads_bounded(body)


def test_a_plain_django_view_is_shielded_by_the_middleware(rf):
    from django.http import JsonResponse

    from statusmsg.middleware import json_depth_middleware

    def naive_view(request):  # what a plain view might do: json.loads(request.body)
        return JsonResponse({"items": len(json.loads(request.body))})

    view = json_depth_middleware(naive_view)
    deep = view(rf.post("/plain/", "[" * 50_000, content_type="application/json"))
    assert deep.status_code == 400 and b"deeper than 64" in deep.content
    flat = view(rf.post("/plain/", "[1, [2], {\"a\": [3]}]", content_type="application/json"))
    assert flat.status_code == 200
    # A body that is not JSON is passed on untouched, brackets or not.
    form_view = json_depth_middleware(lambda request: JsonResponse({"username": request.POST["username"]}))
    assert form_view(rf.post("/plain/", {"username": "[" * 500})).status_code == 200
