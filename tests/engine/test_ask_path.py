"""The question path: stored sentence boundaries, chunk vectors beside BM25, and no LlamaIndex import."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

from index.articles import Article

ROOT = Path(__file__).resolve().parents[2]


def test_answers_quote_the_sentences_stored_at_indexing_else_split_now():
    from index.answer import passage_sentences
    from index.results import Passage

    text = "Ford Motor Co. is recalling 2.9 million vehicles that may roll away. The recall covers five models."
    stored = ((0, len(text)),)  # whatever the index stored is used as it is: no splitting at question time
    passage = Passage("c1", "a1", text, "Ford recall", "cnn.com", date(2022, 6, 15), None, sentence_spans=stored)
    assert passage_sentences(passage) == [text]
    assert passage_sentences(Passage("c1", "a1", text, "Ford recall", "cnn.com", date(2022, 6, 15), None)) == [
        "Ford Motor Co. is recalling 2.9 million vehicles that may roll away.",
        "The recall covers five models.",
    ]


def test_chunks_store_their_sentences_and_passages_carry_them(seeded):
    rows = seeded._catalog.chunks_of(seeded._catalog.article_ids())
    assert rows and all(r.sentences for r in rows)
    for row in rows:
        assert all(0 <= s < e <= len(row.text) for s, e in row.sentences)
    passage = seeded.retrieve("Which cities were hit?", top_k=1).passages[0]
    assert passage.sentence_spans
    assert "sentence_spans" not in json.dumps(seeded.ask("Which cities were hit?").to_dict())


def test_asking_from_a_fresh_process_does_not_import_llamaindex_or_nltk(seeded, settings):
    """What keeps `newsdesk ask` starting quickly: the question path needs neither library."""
    seeded.close()
    script = (
        "import sys\n"
        "from index import Engine, Settings\n"
        f"engine = Engine.open(Settings(data_dir={str(settings.data_dir)!r}, seeds_dir={str(settings.seeds_dir)!r}))\n"
        "answer = engine.ask('Which cities were hit?')\n"
        "assert 'Kharkiv' in answer.text, answer.text\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'llama_index', 'nltk', 'trafilatura', 'pypdf'}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_an_added_article_is_found_by_keyword_and_by_vector_when_the_add_returns(seeded, monkeypatch):
    from index import retrieve

    article = Article(
        title="Ferry service resumes",
        body="The ferry between Gdansk and Ystad runs again after the strike ended, the operator said on Monday.",
        published=date(2024, 5, 6),
    )
    seeded.add_article(article)
    question = "Does the Gdansk Ystad ferry run again?"
    assert seeded.retrieve(question, as_of=date(2024, 5, 7)).passages[0].article_id == article.id
    monkeypatch.setattr(retrieve, "DENSE_CANDIDATES", 0)  # keywords alone find it
    monkeypatch.setattr(retrieve, "TITLE_CANDIDATES", 0)
    assert seeded.retrieve(question, as_of=date(2024, 5, 7)).passages[0].article_id == article.id
    monkeypatch.setattr(retrieve, "KEYWORD_CANDIDATES", 0)  # and the nearest chunks alone
    monkeypatch.setattr(retrieve, "DENSE_CANDIDATES", 100)
    assert seeded.retrieve(question, as_of=date(2024, 5, 7)).passages[0].article_id == article.id
    seeded.remove(article.id)
    assert all(p.article_id != article.id for p in seeded.retrieve(question, as_of=date(2024, 5, 7)).passages)
