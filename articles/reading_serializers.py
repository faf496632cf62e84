"""The JSON shape of an analyzed article, and the query of the article list."""

from rest_framework import serializers

from .models import Article

MAX_LIMIT = 500
DEFAULT_LIMIT = 50
SENTIMENTS = ("positive", "neutral", "negative")
# Word for word the task list's (jobs.pagination), so a client learns one rule.
LIMIT_MESSAGE = f"Expected a whole number of at least 1 and at most {MAX_LIMIT}."
OFFSET_MESSAGE = "Expected a whole number of at least 0."


class ArticleSerializer(serializers.ModelSerializer):
    published_date = serializers.DateTimeField(source="published_at", read_only=True)
    sentiment = serializers.CharField(source="sentiment_label", read_only=True)
    sentiment_score = serializers.FloatField(source="sentiment", read_only=True)

    class Meta:
        model = Article
        fields = ["id", "url", "title", "source", "topic", "published_date", "summary", "sentiment",
                  "sentiment_score", "relevance", "keywords", "analyzed_at"]
        read_only_fields = fields


class ArticleListSerializer(serializers.Serializer):
    articles = ArticleSerializer(many=True)
    count = serializers.IntegerField(help_text="All the articles that match, not only this page.")


class ArticleListQuerySerializer(serializers.Serializer):
    topic = serializers.CharField(max_length=200, required=False, default="")
    sentiment = serializers.ChoiceField(choices=SENTIMENTS, required=False, default="")
    min_relevance = serializers.FloatField(min_value=0, max_value=1, required=False, default=None)
    q = serializers.CharField(max_length=200, required=False, default="",
                              help_text="Words in title, summary, url or source.")
    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, default=DEFAULT_LIMIT, error_messages={
        "invalid": LIMIT_MESSAGE, "min_value": LIMIT_MESSAGE, "max_value": LIMIT_MESSAGE})
    offset = serializers.IntegerField(min_value=0, default=0, error_messages={
        "invalid": OFFSET_MESSAGE, "min_value": OFFSET_MESSAGE})

    @classmethod
    def from_query(cls, query_params) -> dict:
        """Return the validated query; a ValidationError (400) for a bad value. Empty values mean the default."""
        given = {key: value for key, value in query_params.items() if value != ""}
        query = cls(data=given)
        query.is_valid(raise_exception=True)
        return dict(query.validated_data)
