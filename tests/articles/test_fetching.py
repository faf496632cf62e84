"""The guarded fetcher: what it fetches, what it refuses, and the reason it gives."""

import socket

import pytest

from articles.fetching import FEED_TYPES, Fetcher, FetchError, FetchRefused, check_url, fetch

from .sites import MAX_BYTES, SOLAR_TITLE


def test_fetches_an_allowed_local_article(site):
    page = fetch(site.article("solar"))
    assert page.status_code == 200
    assert page.content_type == "text/html"
    assert SOLAR_TITLE in page.text


def test_follows_a_redirect_and_reports_the_final_url(site):
    page = fetch(site.url("/redirect/solar"))
    assert page.final_url == site.article("solar")
    assert page.url == site.url("/redirect/solar")


@pytest.mark.parametrize(
    "path, reason",
    [
        ("/articles/missing.html", "HTTP 404"),
        ("/files/report.pdf", "unsupported content type 'application/pdf'"),
        ("/articles/huge.html", f"(limit {MAX_BYTES})"),
        ("/articles/huge-stream.html", f"too large: more than {MAX_BYTES} bytes"),
        ("/redirect/loop", "too many redirects"),
    ],
)
def test_failures_carry_a_clear_reason(site, path, reason):
    with pytest.raises(FetchError) as failure:
        fetch(site.url(path))
    assert reason in str(failure.value)


def test_a_declared_content_length_over_the_cap_is_refused_before_reading(site):
    with pytest.raises(FetchError, match=r"too large: \d+ bytes \(limit 20\)"):
        fetch(site.article("solar"), max_bytes=20)


def test_slow_page_times_out(site):
    with pytest.raises(FetchError, match=r"timed out after 0\.5s"):
        fetch(site.article("slow"), timeout=0.5)


def test_redirect_to_a_private_address_is_refused(site):
    with pytest.raises(FetchRefused, match=r"169\.254\.169\.254"):
        fetch(site.url("/redirect/private"))


def test_redirect_to_a_loopback_host_not_on_the_allow_list_is_refused(site):
    # The allow list names 127.0.0.1:<port>; "localhost" resolves to loopback and is not listed.
    with pytest.raises(FetchRefused, match="non-public address"):
        fetch(site.url("/redirect/loopback"))


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://localhost:8000/admin/",
        "http://10.1.2.3/",
        "http://192.168.0.1/router",
        "http://172.16.5.4/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[fe80::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "http://100.64.0.1/",
    ],
)
def test_private_loopback_and_link_local_addresses_are_refused(settings, url):
    settings.STATUSMSG = {**settings.STATUSMSG, "FETCH_ALLOW_HOSTS": ""}
    with pytest.raises(FetchRefused, match="non-public address"):
        check_url(url)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x", "gopher://example.com/", "//x/y"])
def test_only_http_and_https_are_fetched(url):
    with pytest.raises(FetchRefused, match="only http and https"):
        fetch(url)


def test_a_hostname_that_resolves_to_a_private_address_is_refused(settings, monkeypatch):
    settings.STATUSMSG = {**settings.STATUSMSG, "FETCH_ALLOW_HOSTS": ""}

    def fake_getaddrinfo(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port))]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    with pytest.raises(FetchRefused, match=r"internal\.example\.com resolves to a non-public address \(10\.0\.0\.7\)"):
        check_url("https://internal.example.com/")


def test_a_public_address_is_pinned_for_the_connection(settings, monkeypatch):
    settings.STATUSMSG = {**settings.STATUSMSG, "FETCH_ALLOW_HOSTS": ""}
    public = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 443))]
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, port, *a, **k: public)
    assert check_url("https://news.example.com/a") == ("https://news.example.com/a", "93.184.215.14")


def test_the_allow_list_accepts_host_or_host_and_port(settings):
    settings.STATUSMSG = {**settings.STATUSMSG, "FETCH_ALLOW_HOSTS": "localhost, 127.0.0.1:9999"}
    assert check_url("http://localhost:1234/x")[1] is None
    assert check_url("http://127.0.0.1:9999/x")[1] is None
    with pytest.raises(FetchRefused):
        check_url("http://127.0.0.1:9998/x")


def test_an_unresolvable_host_is_a_fetch_error(settings):
    settings.STATUSMSG = {**settings.STATUSMSG, "FETCH_ALLOW_HOSTS": ""}
    with pytest.raises(FetchError, match="cannot resolve host"):
        check_url("http://no-such-host.invalid/")


def test_feeds_are_accepted_with_feed_content_types(site):
    with Fetcher() as fetcher:
        page = fetcher.fetch(site.url("/feeds/atom.xml"), accept=FEED_TYPES)
    assert page.content_type == "application/atom+xml"
    assert b"<feed" in page.body


def test_the_connection_goes_to_the_checked_address_and_names_the_host(site, monkeypatch):
    # A name that resolves to something else at connect time (DNS rebinding) changes nothing:
    # the request goes to the address check_url approved, with the URL's host in Host.
    from articles import fetching

    port = site.server.port
    monkeypatch.setattr(fetching, "check_url", lambda url: (url, "127.0.0.1"))
    page = fetch(f"http://news.rebind.invalid:{port}/articles/solar.html")
    assert SOLAR_TITLE in page.text
    request, _response = site.server.log[-1]
    assert request.headers["Host"] == f"news.rebind.invalid:{port}"


def test_https_keeps_the_host_name_for_tls():
    import httpx

    from articles.fetching import _pinned_request

    with httpx.Client() as client:
        request = _pinned_request(client, "https://news.example.com/a?b=1", "93.184.215.14", httpx.Timeout(5))
    assert str(request.url) == "https://93.184.215.14/a?b=1"
    assert request.headers["Host"] == "news.example.com"
    assert request.extensions["sni_hostname"] == "news.example.com"
