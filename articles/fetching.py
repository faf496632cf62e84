"""Fetch a page or feed from a user-given URL without letting it reach inside our network.

Every hop (the first request and each redirect) is checked the same way: http or https
only, the host resolved, and every address it resolves to must be public; the request then
goes to the address that was checked (not to a second DNS answer), so a host cannot
resolve public for the check and private for the connection. Hosts listed in
STATUSMSG["FETCH_ALLOW_HOSTS"] skip the address check (e.g. a local test server).
"""

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from statusmsg.conf import app_settings

HTML_TYPES = ("text/html", "application/xhtml+xml")
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/xml", "text/xml",
              "application/rdf+xml", "application/feed+json", "text/html")
USER_AGENT = "statusmsg-fetcher/1.0 (+https://github.com/statusmsg)"
CHUNK_SIZE = 64 * 1024


class FetchError(Exception):
    """A fetch that was refused or failed; str() is the reason shown to the user."""


class FetchRefused(FetchError):
    """The URL points somewhere we do not fetch from (scheme, private address)."""


@dataclass(frozen=True)
class FetchedPage:
    url: str  # the URL asked for
    final_url: str  # after redirects
    status_code: int
    content_type: str
    body: bytes
    encoding: str | None

    @property
    def text(self) -> str:
        return self.body.decode(self.encoding or "utf-8", errors="replace")


def _allowed_hosts() -> set[str]:
    raw = app_settings.FETCH_ALLOW_HOSTS or ""
    return {entry.strip().lower() for entry in raw.split(",") if entry.strip()}


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_global and not (address.is_multicast or address.is_reserved or address.is_unspecified)


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"cannot resolve host {host!r}: {exc}") from None
    return list(dict.fromkeys(info[4][0] for info in infos))


def check_url(url: str) -> tuple[str, str | None]:
    """Refuse url unless it may be fetched; return (url, address to connect to or None).

    None means the host is on the allow list and is connected to by name.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise FetchRefused(f"malformed URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise FetchRefused(f"only http and https URLs are fetched, not {parts.scheme or 'no scheme'!r}")
    host = (parts.hostname or "").lower()
    if not host:
        raise FetchRefused("the URL has no host")
    port = port or (443 if parts.scheme == "https" else 80)
    allowed = _allowed_hosts()
    if host in allowed or f"{host}:{port}" in allowed:
        return url, None
    addresses = _resolve(host, port)
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not _is_public(ip):
            raise FetchRefused(f"refused: {host} resolves to a non-public address ({ip})")
    if not addresses:
        raise FetchError(f"cannot resolve host {host!r}")
    return url, addresses[0]


def _pinned_request(client: httpx.Client, url: str, address: str | None, timeout: httpx.Timeout) -> httpx.Request:
    """Build a GET for url that connects to the checked address while naming the host."""
    request_url = httpx.URL(url)
    headers = {"User-Agent": USER_AGENT, "Accept": "*/*"}
    extensions = {"timeout": timeout.as_dict()}
    if address is not None:
        headers["Host"] = request_url.netloc.decode("ascii")
        if request_url.scheme == "https":
            # TLS must still present and verify the real host name, not the address.
            extensions["sni_hostname"] = request_url.host
        request_url = request_url.copy_with(host=address)
    request = client.build_request("GET", request_url, headers=headers)
    request.extensions.update(extensions)
    return request


class Fetcher:
    """A guarded HTTP client; thread-safe, so one serves all the workers of a job."""

    def __init__(self, timeout: float | None = None, max_bytes: int | None = None,
                 max_redirects: int | None = None, max_connections: int = 20):
        self.timeout = float(app_settings.FETCH_TIMEOUT if timeout is None else timeout)
        self.max_bytes = int(app_settings.FETCH_MAX_BYTES if max_bytes is None else max_bytes)
        self.max_redirects = int(app_settings.FETCH_MAX_REDIRECTS if max_redirects is None else max_redirects)
        # Redirects are followed by hand: each hop has to pass check_url first.
        self.client = httpx.Client(
            follow_redirects=False, trust_env=False,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        )

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> "Fetcher":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def fetch(self, url: str, accept: tuple[str, ...] = HTML_TYPES, deadline: float | None = None) -> FetchedPage:
        """Fetch url (following checked redirects) and return it, or raise FetchError with the reason."""
        started = time.monotonic()
        ends_at = started + self.timeout
        if deadline is not None:
            ends_at = min(ends_at, deadline)
        # The limit that applies (ours or the caller's deadline), named in any timeout reason.
        limit = round(max(0.0, ends_at - started), 1)
        current = url
        for _hop in range(self.max_redirects + 1):
            current, address = check_url(current)
            remaining = ends_at - time.monotonic()
            if remaining <= 0:
                raise FetchError(f"timed out after {limit:g}s")
            request = _pinned_request(self.client, current, address, httpx.Timeout(remaining))
            try:
                response = self.client.send(request, stream=True)
            except httpx.TimeoutException:
                raise FetchError(f"timed out after {limit:g}s") from None
            except httpx.HTTPError as exc:
                raise FetchError(f"connection failed: {exc or type(exc).__name__}") from None
            try:
                if response.is_redirect:
                    location = response.headers.get("location")
                    if not location:
                        raise FetchError(f"redirect ({response.status_code}) without a Location")
                    current = urljoin(current, location)
                    continue
                return self._read(url, current, response, accept, ends_at, limit)
            finally:
                response.close()
        raise FetchError(f"too many redirects (more than {self.max_redirects})")

    def _read(self, url: str, final_url: str, response: httpx.Response, accept, ends_at: float,
              limit: float) -> FetchedPage:
        if response.status_code >= 400:
            raise FetchError(f"HTTP {response.status_code} {response.reason_phrase}".strip())
        content_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if content_type not in accept:
            raise FetchError(f"unsupported content type {content_type or 'none'!r} (expected {', '.join(accept)})")
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise FetchError(f"too large: {int(declared)} bytes (limit {self.max_bytes})")
        chunks, size = [], 0
        try:
            for chunk in response.iter_bytes(CHUNK_SIZE):
                size += len(chunk)
                if size > self.max_bytes:
                    raise FetchError(f"too large: more than {self.max_bytes} bytes")
                if time.monotonic() > ends_at:
                    raise FetchError(f"timed out after {limit:g}s")
                chunks.append(chunk)
        except httpx.TimeoutException:
            raise FetchError(f"timed out after {limit:g}s") from None
        except httpx.HTTPError as exc:
            raise FetchError(f"connection failed while reading: {exc or type(exc).__name__}") from None
        return FetchedPage(url=url, final_url=final_url, status_code=response.status_code,
                           content_type=content_type, body=b"".join(chunks), encoding=response.charset_encoding)


def fetch(url: str, accept: tuple[str, ...] = HTML_TYPES, **options) -> FetchedPage:
    """Fetch one URL with a short-lived guarded client."""
    with Fetcher(**options) as fetcher:
        return fetcher.fetch(url, accept=accept)
