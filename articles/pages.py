"""The article pages: the list of analyzed articles (filters, search, pages) and one article's full analysis."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render

from . import queries
from .exceptions import ArticleNotFound
from .forms import ArticleFilterForm

PAGE_SIZE = 25


@login_required
def article_list(request):
    """Show the articles matching the filters in the query string, newest first, a page at a time."""
    form = ArticleFilterForm(request.GET or None, topics=queries.article_topics())
    filters = form.filters() if request.GET else {}
    paginator = Paginator(queries.search_articles(**filters), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    # Page links keep the filters: everything in the query string but the page number.
    keep = request.GET.copy()
    keep.pop("page", None)
    return render(request, "articles/article_list.html", {
        "form": form,
        "page": page,
        "filtered": any(value not in ("", None) for value in filters.values()),
        "query_prefix": f"?{keep.urlencode()}&" if keep else "?",
    })


@login_required
def article_detail(request, article_id):
    """Show one article's full analysis: summary, sentiment, relevance, keywords, and its text."""
    try:
        article = queries.get_article(article_id)
    except ArticleNotFound:
        raise Http404("No such article.") from None
    return render(request, "articles/article_detail.html", {
        "article": article,
        "relevance_percent": None if article.relevance is None else round(article.relevance * 100),
    })
