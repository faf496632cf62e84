"""REST endpoints of /api/articles: the analyzed articles, for every logged-in user."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from statusmsg.api_schema import ErrorSerializer

from . import queries
from .reading_serializers import ArticleListQuerySerializer, ArticleListSerializer, ArticleSerializer


class ArticleListView(APIView):
    @extend_schema(operation_id="articles_list", parameters=[ArticleListQuerySerializer],
                   responses={200: ArticleListSerializer})
    def get(self, request):
        query = ArticleListQuerySerializer.from_query(request.query_params)
        limit, offset = query.pop("limit"), query.pop("offset")
        articles = queries.search_articles(**query)
        return Response({
            "articles": ArticleSerializer(articles[offset:offset + limit], many=True).data,
            "count": articles.count(),
        })


class ArticleDetailView(APIView):
    @extend_schema(operation_id="articles_retrieve",
                   responses={200: ArticleSerializer, 404: OpenApiResponse(ErrorSerializer, "No such article")})
    def get(self, request, article_id):
        return Response(ArticleSerializer(queries.get_article(article_id)).data)
