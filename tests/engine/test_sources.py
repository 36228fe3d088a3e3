"""One source per article and per copy group: passages of one article share a number, a copy of a cited article
is not a second source but 'also reported by'."""

from __future__ import annotations

from datetime import date

from bench.scoring import citations_hold
from index.results import Answer, Citation, Passage, Sentence
from index.sources import merge_passages, one_source_per_article

from . import story_docs as docs


def passage(article: str, ordinal: int, text: str, outlet: str = "Daily", title: str = "Title") -> Passage:
    return Passage(f"{article}-v1-{ordinal:04d}", article, text, title, outlet, date(2024, 9, 10), None)


FIRST = passage("a", 0, "The dam broke at dawn. Water reached the town by noon.")
SECOND = passage("a", 1, "Water reached the town by noon. Rescuers saved 40 people.")
OTHER = passage("b", 0, "The governor declared an emergency.", outlet="Courier")


def test_passages_of_one_article_share_one_source_number():
    answer = Answer(
        "q",
        (
            Sentence("Rescuers saved 40 people.", (1,)),
            Sentence("The governor declared an emergency.", (2,)),
            Sentence("The dam broke at dawn.", (3,)),
        ),
        (Citation(1, SECOND), Citation(2, OTHER), Citation(3, FIRST)),
        date(2024, 9, 11),
    )
    merged = one_source_per_article(answer)
    assert [c.passage.article_id for c in merged.citations] == ["a", "b"]
    assert [s.citations for s in merged.sentences] == [(1,), (2,), (1,)]
    assert citations_hold(merged)
    text = merged.citations[0].passage.text
    assert text.count("Water reached the town by noon.") == 1  # the chunks' overlap is not repeated
    assert text.index("dam broke") < text.index("saved 40")  # in article order


def test_a_merged_source_says_where_its_cited_sentences_sit_in_its_quotation():
    answer = Answer(
        "q",
        (Sentence("Rescuers saved 40 people.", (1,)), Sentence("The dam broke at dawn.", (2,))),
        (Citation(1, SECOND), Citation(2, FIRST)),
        date(2024, 9, 11),
    )
    source = one_source_per_article(answer).citations[0]
    assert [source.passage.text[s:e] for s, e in source.quoted] == [
        "The dam broke at dawn.",
        "Rescuers saved 40 people.",
    ]


def test_merged_sentence_spans_point_at_the_merged_text():
    merged = merge_passages([FIRST, SECOND])
    assert [merged.text[s:e].strip() for s, e in merged.sentence_spans] == [
        "The dam broke at dawn.",
        "Water reached the town by noon.",
        "Rescuers saved 40 people.",
    ]


def test_a_sentence_citing_two_passages_of_one_article_cites_it_once():
    answer = Answer(
        "q",
        (Sentence("Water reached the town by noon.", (1, 2)),),
        (Citation(1, FIRST), Citation(2, SECOND)),
        date(2024, 9, 11),
    )
    assert one_source_per_article(answer).sentences[0].citations == (1,)


def test_a_copy_of_a_cited_article_is_not_a_second_source(newsroom):
    rows = [newsroom._catalog.chunks(a.id)[0] for a in (docs.DELIA_1, docs.DELIA_1_COPY)]
    first, copy = (
        Passage(r.id, a.id, r.text, a.title, a.outlet, a.published, a.url)
        for r, a in zip(rows, (docs.DELIA_1, docs.DELIA_1_COPY), strict=True)
    )
    sentence = "Governor Mara Quint declared a state of emergency and ordered 40,000 residents"
    answer = Answer(
        "q",
        (Sentence(sentence, (1,)), Sentence("Shelters opened at six schools", (2,))),
        (Citation(1, first), Citation(2, copy)),
        date(2024, 9, 11),
    )
    merged = one_source_per_article(answer, newsroom._shapes.reader)
    assert [c.passage.article_id for c in merged.citations] == [docs.DELIA_1.id]
    assert merged.citations[0].also == (docs.COAST,)
    assert [s.citations for s in merged.sentences] == [(1,), (1,)]
