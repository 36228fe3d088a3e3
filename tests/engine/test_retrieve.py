"""Retrieval's title signal: headlines embedded alone, cached when added, a candidate source of their own."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from index import retrieve
from index.articles import Article
from index.chunking import title_key

BOILERPLATE = (
    "We use cookies to improve your experience. By continuing you agree to our privacy policy and the "
    "processing of your data for personalised advertising. Manage your preferences at any time."
)


def _coast(title: str, body: str, slug: str) -> Article:
    return Article(
        title=title, body=body, outlet="Coast News", published=date(2025, 2, 1), url=f"https://coast.example/{slug}"
    )


@pytest.fixture
def coast(engine):
    engine.add_articles(
        [
            _coast("Harbour ferry fares will double from March", BOILERPLATE, "ferry-fares"),
            _coast(
                "Ferry timetable changes this spring",
                "New ferry timetables start in April with fewer evening crossings on the harbour route.",
                "timetable",
            ),
            _coast("", BOILERPLATE, "lighthouse-keeper-retires-after-forty-years"),
            _coast(
                "Lighthouse museum opens on the pier",
                "The old lighthouse on the pier opens as a museum on Saturday. Visitors can climb the lighthouse "
                "tower, see the lamp the keepers tended, and read the logbooks the lighthouse keepers kept.",
                "museum",
            ),
            *[_coast(f"Notice {i}", BOILERPLATE, f"notice-{i}") for i in range(4)],
        ]
    )
    return engine


def test_every_article_has_its_title_vector_stored_when_added(coast, embed_model):
    store = coast._view.live()
    assert store.title_ids() == {i.id for i in coast.list_articles()}
    harbour = next(i.id for i in coast.list_articles() if i.title.startswith("Harbour"))
    expected = np.asarray(embed_model.get_text_embedding("Harbour ferry fares will double from March"))
    hits = dict(store.query_titles(expected, 1, where=None))
    assert hits and hits.get(harbour, 0) > 0.999
    key = title_key(coast._model_key, "Lighthouse keeper retires after forty years")  # titled from its URL's slug
    assert key in coast._cache.get([key])


def test_the_nearest_headlines_are_candidates_of_their_own(coast, monkeypatch):
    # as in a large corpus where a boilerplate body keeps an article's chunks out of the nearest ones
    monkeypatch.setattr(retrieve, "DENSE_CANDIDATES", 0)
    monkeypatch.setattr(retrieve, "KEYWORD_CANDIDATES", 0)
    question = "Who retired from the lighthouse?"

    def found() -> list[str]:
        return [p.url for p in coast.retrieve(question, as_of=date(2025, 2, 3)).passages]

    assert found()[0] == "https://coast.example/lighthouse-keeper-retires-after-forty-years"
    monkeypatch.setattr(retrieve, "TITLE_CANDIDATES", 0)
    assert "https://coast.example/lighthouse-keeper-retires-after-forty-years" not in found()
