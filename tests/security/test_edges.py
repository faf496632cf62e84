"""Items 5 and 6: 401 with WWW-Authenticate, staff-only auto-ingest, CSP, HTTPS headers, the site's
own error pages, and docs that load nothing from elsewhere."""

import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from jobs.models import TaskInfo

pytestmark = pytest.mark.django_db

AUTO_INGEST = "/api/background-tasks/auto-ingest"
PAGES = ["/tasks/", "/notifications/", "/keyword-alerts", "/api/docs/", "/api/redoc/", "/admin/", "/accounts/login/"]


@pytest.fixture
def browser(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.mark.parametrize("path", ["/api/background-tasks/summary", "/api/background-tasks/tasks",
                                  "/api/notifications", "/api/notifications/unread-count"])
def test_anonymous_api_calls_answer_401_with_www_authenticate_token(path):
    response = APIClient().get(path)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["detail"]


def test_a_bad_token_is_a_401_too():
    response = APIClient(HTTP_AUTHORIZATION="Token nope").get("/api/background-tasks/summary")
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"


def test_auto_ingest_is_staff_only(api, staff_api):
    response = api.post(AUTO_INGEST)
    assert response.status_code == 403
    assert not TaskInfo.objects.exists()
    assert staff_api.post(AUTO_INGEST).status_code == 202


def test_a_users_auto_ingest_result_is_never_shown_to_another_user(staff_api, api):
    task_id = staff_api.post(AUTO_INGEST).json()["task_id"]
    assert api.get(f"/api/background-tasks/task/{task_id}").status_code == 404
    assert api.get("/api/background-tasks/tasks").json()["tasks"] == []


def csp_of(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split("; ")}


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_a_csp_without_unsafe_inline_scripts(browser, path):
    response = browser.get(path)
    assert response.status_code == 200, path
    policy = csp_of(response)
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    # The nonce is in the header only when the page used it; every inline script carries it,
    # and every script file is our own.
    nonce = next((value[7:-1] for value in policy["script-src"] if value.startswith("'nonce-")), "no nonce")
    for attributes, body in re.findall(r"<script([^>]*)>(.*?)</script>", response.text, re.DOTALL):
        if "src=" in attributes:
            assert re.search(r'src="/static/', attributes), attributes
        elif 'type="application/json"' not in attributes:
            assert f'nonce="{nonce}"' in attributes, (path, attributes, body[:80])


@pytest.mark.parametrize("path", PAGES)
def test_no_page_loads_anything_from_elsewhere(browser, path):
    text = browser.get(path).text
    external = re.findall(r'(?:src|href)="((?:https?:)?//[^"]+)"', text)
    assert external == [], path
    assert "fonts.googleapis" not in text and "cdn.jsdelivr" not in text


def test_the_docs_use_the_sidecar_files_and_they_are_served(browser):
    docs = browser.get("/api/docs/").text
    redoc = browser.get("/api/redoc/").text
    bundle = re.search(r'src="(/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle\.js)"', docs)
    standalone = re.search(r'src="(/static/drf_spectacular_sidecar/redoc/bundles/redoc\.standalone\.js)"', redoc)
    assert bundle and standalone
    for url in (bundle.group(1), standalone.group(1)):
        response = Client().get(url)
        assert response.status_code == 200
        assert b"".join(response.streaming_content)[:1]


def test_https_requests_get_hsts_and_secure_cookies(settings, user):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    client = Client()
    login = client.get("/accounts/login/", secure=True)
    assert login["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert login.cookies["csrftoken"]["secure"]
    token = login.cookies["csrftoken"].value
    response = client.post("/accounts/login/", {"username": "alice", "password": "alice-password",
                                                "csrfmiddlewaretoken": token}, secure=True)
    assert response.status_code == 302
    assert response.cookies["sessionid"]["secure"] and response.cookies["sessionid"]["httponly"]


def test_plain_http_is_redirected_when_ssl_redirect_is_on(settings):
    settings.SECURE_SSL_REDIRECT = True
    response = Client().get("/accounts/login/")
    assert response.status_code == 301 and response["Location"].startswith("https://")


def test_the_proxy_header_marks_a_request_secure(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert Client().get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https").status_code == 200


def test_not_found_is_the_sites_own_page_with_a_way_back(browser):
    response = browser.get("/no/such/page/")
    assert response.status_code == 404
    assert b"Page not found" in response.content and b'href="/tasks/"' in response.content
    assert b"URLconf" not in response.content


def test_forbidden_is_the_sites_own_page_with_a_way_back(rf, user):
    from django.core.exceptions import PermissionDenied
    from django.views.defaults import permission_denied

    request = rf.get("/somewhere/")
    request.user = user
    response = permission_denied(request, PermissionDenied())
    assert response.status_code == 403
    assert b"Not allowed" in response.content and b'href="/tasks/"' in response.content


def test_server_error_is_the_sites_own_page_with_a_way_back(rf):
    from django.views.defaults import server_error

    response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert b"Something went wrong" in response.content and b'href="/tasks/"' in response.content


def test_static_files_are_served_by_the_app_itself():
    response = Client().get("/static/js/live-socket.js")
    assert response.status_code == 200
    assert b"".join(response.streaming_content)


@pytest.mark.parametrize("key", ["a\x00b", "x" * 5000, "é" * 40, "0123456789abcdef0123456789abcdef0123456g"])
def test_a_malformed_token_is_a_401_without_a_query(key, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = APIClient(HTTP_AUTHORIZATION=f"Token {key}").get("/api/background-tasks/summary")
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"
