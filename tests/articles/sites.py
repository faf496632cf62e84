"""A local web site for the workload tests: articles, feeds, and every way a fetch can go wrong.

tests/jobs/conftest.py makes the fixtures `site` and `site_server` available to every jobs test.
"""

import re
import time
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

MAX_BYTES = 200_000  # the tests' fetch size cap; the huge page is past it
SLOW_SECONDS = 3.0

SOLAR_TITLE = "Solar power capacity doubles as panel prices fall"
SOLAR_PARAGRAPHS = [
    "Solar power capacity across the region doubled last year, according to a new report from the national "
    "energy agency, as falling panel prices and generous incentives drew record investment into renewable energy.",
    "Installers connected more than twelve gigawatts of new solar panels to the grid, enough to supply power to "
    "roughly three million homes. The agency said the growth was the fastest it has ever recorded.",
    "Analysts credit the surge to a steep drop in the price of photovoltaic modules, which fell by almost forty "
    "percent in eighteen months. Cheaper panels have made rooftop solar attractive for households and farmers alike.",
    "Battery storage is growing alongside the panels. Utilities are pairing solar farms with large batteries so "
    "that clean energy produced at noon can power homes after sunset, easing pressure on the grid.",
    "Grid operators warn that transmission lines must expand quickly to keep up. Several solar projects have "
    "waited more than two years for a connection, and the agency urged lawmakers to simplify permits.",
    "Industry groups welcomed the report and said the outlook remains bright. They expect solar power to become "
    "the largest source of new electricity within five years if investment continues at the current pace.",
    "Consumer advocates noted that households with solar panels saved an average of four hundred dollars on "
    "their energy bills last year, a benefit that has made the technology popular in rural communities.",
]

FLOOD_TITLE = "Floods destroy homes and leave thousands stranded"
FLOOD_PARAGRAPHS = [
    "Devastating floods destroyed hundreds of homes overnight, leaving thousands of residents stranded and "
    "without power after the river burst its banks following a week of terrible storms.",
    "Rescue teams struggled to reach isolated villages as roads collapsed and bridges were swept away. "
    "Officials confirmed that at least twelve people died and many more are missing.",
    "Survivors described a horrifying night as water rushed into their houses. Many lost everything they "
    "owned, and shelters are overcrowded, short of food, clean water and medicine.",
    "The disaster has caused severe damage to farms and crops, and officials fear a painful and slow recovery. "
    "Angry residents criticised the failure to maintain flood defences despite repeated warnings.",
    "Forecasters warned that more heavy rain is expected this week, raising fears of further destruction "
    "and danger for communities already suffering from the crisis.",
]

FOOTBALL_TITLE = "Late goal sends United into the cup final"
FOOTBALL_PARAGRAPHS = [
    "United reached the cup final with a dramatic late goal on Saturday, as their captain headed in a corner "
    "in the ninetieth minute to settle a tense semi-final in front of a packed stadium.",
    "The match had been goalless for most of the afternoon, with both teams cautious and chances rare. "
    "The visiting goalkeeper made three fine saves to keep his side level.",
    "The manager praised his players for their patience and said the supporters had carried the team through "
    "the final minutes. United will face City in the final next month.",
    "Tickets for the final are expected to sell out within hours, and the club has asked fans to buy only "
    "from official outlets to avoid scams that affected supporters last season.",
]

SHORT_TITLE = "Solar briefly"
SHORT_PARAGRAPHS = ["Solar panel installations rose again this month, officials said on Monday morning."]

FEED_ARTICLES = ["solar", "flood", "football", "short"]


def article_page(title: str, paragraphs: list[str], published: str = "2026-03-14") -> str:
    body = "\n".join(f"<p>{paragraph}</p>" for paragraph in paragraphs)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} | The Daily Example</title>
<meta property="og:title" content="{title}">
<meta name="date" content="{published}">
</head><body>
<header><nav><a href="/">Home</a> <a href="/world">World</a> <a href="/sport">Sport</a></nav></header>
<main><article>
<h1>{title}</h1>
<p class="byline">By A. Reporter, published <time datetime="{published}">{published}</time></p>
{body}
</article></main>
<footer><p>Copyright The Daily Example. All rights reserved.</p></footer>
</body></html>"""


PAGES = {
    "solar": (SOLAR_TITLE, SOLAR_PARAGRAPHS),
    "flood": (FLOOD_TITLE, FLOOD_PARAGRAPHS),
    "football": (FOOTBALL_TITLE, FOOTBALL_PARAGRAPHS),
    "short": (SHORT_TITLE, SHORT_PARAGRAPHS),
}

EMPTY_PAGE = """<!doctype html><html><head><title>Menu</title></head><body>
<nav><a href="/">Home</a></nav></body></html>"""


def rss_feed(base: str, names: list[str]) -> str:
    items = "\n".join(
        f"""<item><title>{PAGES[name][0] if name in PAGES else name}</title><link>{base}/articles/{name}.html</link>
<guid>{base}/articles/{name}.html</guid><pubDate>{format_datetime(datetime(2026, 3, 14, 9, n, tzinfo=UTC))}</pubDate>
<description>Story {name}</description></item>"""
        for n, name in enumerate(names)
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Example News</title><link>{base}/</link>
<description>All the news</description>
{items}
</channel></rss>"""


def atom_feed(base: str, names: list[str]) -> str:
    entries = "\n".join(
        f"""<entry><title>{PAGES[name][0] if name in PAGES else name}</title>
<link href="{base}/articles/{name}.html"/><id>{base}/articles/{name}.html</id>
<updated>2026-03-1{n}T10:00:00Z</updated><summary>Story {name}</summary></entry>"""
        for n, name in enumerate(names)
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Example Atom</title><id>{base}/atom</id>
<updated>2026-03-14T10:00:00Z</updated>
{entries}
</feed>"""


class Site:
    """The running server and the URLs of its pages."""

    def __init__(self, server: HTTPServer):
        self.server = server
        self.base = f"http://{server.host}:{server.port}"
        self.host_port = f"{server.host}:{server.port}"

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def article(self, name: str) -> str:
        return self.url(f"/articles/{name}.html")


def _slow(request):
    time.sleep(SLOW_SECONDS)
    return Response(article_page(SOLAR_TITLE, SOLAR_PARAGRAPHS), content_type="text/html")


def _install(server: HTTPServer) -> None:
    base = f"http://{server.host}:{server.port}"
    html = "text/html; charset=utf-8"
    for name, (title, paragraphs) in PAGES.items():
        server.expect_request(f"/articles/{name}.html").respond_with_data(article_page(title, paragraphs),
                                                                          content_type=html)
    server.expect_request("/articles/empty.html").respond_with_data(EMPTY_PAGE, content_type=html)
    server.expect_request("/articles/slow.html").respond_with_handler(_slow)
    server.expect_request("/articles/missing.html").respond_with_data("Not found", status=404, content_type=html)
    huge = article_page("Huge", SOLAR_PARAGRAPHS * 200)
    assert len(huge) > MAX_BYTES
    server.expect_request("/articles/huge.html").respond_with_data(huge, content_type=html)
    # No Content-Length: only counting the streamed bytes can stop it.
    server.expect_request("/articles/huge-stream.html").respond_with_handler(
        lambda request: Response((chunk for chunk in [huge[i:i + 8192] for i in range(0, len(huge), 8192)]),
                                 content_type=html))
    server.expect_request("/files/report.pdf").respond_with_data(b"%PDF-1.4 fake", content_type="application/pdf")
    server.expect_request("/redirect/private").respond_with_data(
        "", status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    server.expect_request("/redirect/loopback").respond_with_data(
        "", status=302, headers={"Location": f"http://localhost:{server.port}/articles/solar.html"})
    server.expect_request("/redirect/solar").respond_with_data(
        "", status=301, headers={"Location": "/articles/solar.html"})
    server.expect_request("/redirect/loop").respond_with_data("", status=302, headers={"Location": "/redirect/loop"})
    server.expect_request("/feeds/rss.xml").respond_with_data(
        rss_feed(base, ["solar", "flood", "missing"]), content_type="application/rss+xml")
    server.expect_request("/feeds/atom.xml").respond_with_data(
        atom_feed(base, ["football", "short", "solar"]), content_type="application/atom+xml")
    server.expect_request("/feeds/broken.xml").respond_with_data("<html>not a feed", content_type="text/plain")
    # Many distinct article urls for queue and throughput tests.
    server.expect_request(re.compile(r"^/many/\d+\.html$")).respond_with_data(
        article_page(SOLAR_TITLE, SOLAR_PARAGRAPHS), content_type=html)


@pytest.fixture(scope="session")
def site_server():
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    _install(server)
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def site(site_server, settings):
    """The local site, allowed through the SSRF guard, with small fetch limits."""
    site = Site(site_server)
    settings.STATUSMSG = {
        **settings.STATUSMSG,
        "FETCH_ALLOW_HOSTS": site.host_port,
        "FETCH_MAX_BYTES": MAX_BYTES,
        "FETCH_TIMEOUT": 10.0,
        "ANALYSIS_ITEM_TIMEOUT": 1.0,
    }
    return site
