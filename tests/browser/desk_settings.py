"""statusmsg's settings with the article routes, for the daphne of the article browser tests.

Until statusmsg.urls includes articles.api_urls and articles.page_urls, the browser tests
serve tests.articles.urls, which adds them to the site's own.
"""

from statusmsg.settings import *  # noqa: F403

ROOT_URLCONF = "tests.articles.urls"
