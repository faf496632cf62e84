"""Plain-text analysis used by the local analyzer: summary, keywords, relevance, sentiment.

All of it is deterministic: ties are broken by position or alphabet, never by hash order.
"""

import re
from collections import Counter
from functools import lru_cache

SUMMARY_SENTENCES = {"brief": 2, "standard": 4, "detailed": 8}
TOP_KEYWORDS = 10

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are aren't as at be because been before
    being below between both but by can can't cannot could couldn't did didn't do does doesn't doing
    don't down during each few for from further had hadn't has hasn't have haven't having he he'd he'll
    he's her here here's hers herself him himself his how how's i i'd i'll i'm i've if in into is isn't
    it it's its itself just let's like made make many may me might more most mostly much must mustn't my
    myself new no nor not now of off on once one only or other ought our ours ourselves out over own
    said same say says shan't she she'd she'll she's should shouldn't since so some such than that
    that's the their theirs them themselves then there there's these they they'd they'll they're they've
    this those though through to too two under until up upon us very was wasn't we we'd we'll we're
    we've were weren't what what's when when's where where's which while who who's whom why why's will
    with within without won't would wouldn't yet you you'd you'll you're you've your yours yourself
    yourselves also however still well even back get got go going told per according year years time""".split()
)

_WORD = re.compile(r"[a-z][a-z0-9'-]*[a-z0-9]|[a-z]")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[A-Z0-9\"'(\[])")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def content_words(text: str) -> list[str]:
    return [word for word in words(text) if len(word) > 2 and word not in STOPWORDS]


@lru_cache(maxsize=50_000)
def _stem(word: str) -> str:
    """Fold the commonest English endings, so 'markets' matches 'market'."""
    for suffix in ("ies", "es", "s", "ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def sentences(text: str) -> list[str]:
    found = []
    for paragraph in re.split(r"\n+", text):
        found.extend(part.strip() for part in _SENTENCE_END.split(paragraph.strip()) if part.strip())
    return found


MIN_SUMMARY_SENTENCE_WORDS = 6  # shorter lines are headlines, bylines and captions


def summarize(text: str, summary_type: str, title: str = "") -> str:
    """Return the most representative sentences, in their original order."""
    all_sentences = [
        sentence for sentence in sentences(text)
        if len(words(sentence)) >= MIN_SUMMARY_SENTENCE_WORDS and sentence.strip() != title.strip()
    ]
    wanted = SUMMARY_SENTENCES[summary_type]
    if len(all_sentences) <= wanted:
        return " ".join(all_sentences)
    frequency = Counter(_stem(word) for word in content_words(text))

    def score(item):
        index, sentence = item
        stems = [_stem(word) for word in content_words(sentence)]
        if not stems:
            return (0.0, -index)
        # Mean frequency favours dense sentences; a small lead bonus keeps the intro.
        lead_bonus = 1.15 if index < 3 else 1.0
        return (lead_bonus * sum(frequency[stem] for stem in stems) / (len(stems) ** 0.7), -index)

    best = sorted(enumerate(all_sentences), key=score, reverse=True)[:wanted]
    return " ".join(sentence for _, sentence in sorted(best))


def top_keywords(text: str, title: str = "", limit: int = TOP_KEYWORDS) -> list[str]:
    """Return the most frequent content words (title words count double), ties alphabetical."""
    counts = Counter(content_words(text))
    for word in content_words(title):
        counts[word] += 2
    return [word for word, _ in sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))[:limit]]


def relevance(topic: str, title: str, text: str) -> float | None:
    """Return 0..1: how much of the topic the article covers, and how densely; None without a topic."""
    topic_stems = sorted({_stem(word) for word in content_words(topic)})
    if not topic_stems:
        return None
    body = [_stem(word) for word in content_words(text)]
    title_stems = {_stem(word) for word in content_words(title)}
    counts = Counter(body)
    covered = sum(1 for stem in topic_stems if counts[stem] or stem in title_stems) / len(topic_stems)
    mentions = sum(counts[stem] for stem in topic_stems)
    density = min(1.0, mentions / max(1, len(body)) / 0.02)  # 2 % of the words saturates
    in_title = sum(1 for stem in topic_stems if stem in title_stems) / len(topic_stems)
    return round(0.6 * covered + 0.25 * density + 0.15 * in_title, 3)


@lru_cache(maxsize=1)
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def sentiment(text: str) -> tuple[float, str]:
    """Return the mean VADER compound score (-1..1) of text's sentences, and its label."""
    # Scored per sentence: VADER's compound of a whole long article saturates near +-1.
    scored = sentences(text)[:300] or [text]
    compound = round(sum(_vader().polarity_scores(s)["compound"] for s in scored) / len(scored), 4)
    return compound, sentiment_label(compound)


def sentiment_label(score: float) -> str:
    if score >= 0.05:
        return "positive"
    if score <= -0.05:
        return "negative"
    return "neutral"
