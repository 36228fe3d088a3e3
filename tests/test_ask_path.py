"""The question path: stored sentence boundaries, chunk vectors beside BM25, and no LlamaIndex import."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np

from index.articles import Article

ROOT = Path(__file__).resolve().parent.parent


def test_answers_quote_the_sentences_stored_at_indexing_else_split_now():
    from index.answer import passage_sentences
    from index.results import Passage

    text = "Ford Motor Co. is recalling 2.9 million vehicles that may roll away. The recall covers five models."
    stored = ((0, len(text)),)  # whatever the index stored is used as it is: no splitting at question time
    passage = Passage("c1", "a1", text, "Ford recall", "cnn.com", date(2022, 6, 15), None, sentence_spans=stored)
    assert passage_sentences(passage) == [text]
    assert passage_sentences(Passage("c1", "a1", text, "Ford recall", "cnn.com", date(2022, 6, 15), None)) == [
        "Ford Motor Co. is recalling 2.9 million vehicles that may roll away.", "The recall covers five models."]


def test_chunks_store_their_sentences_and_passages_carry_them(seeded):
    rows = seeded._catalog.chunks()
    assert rows and all(r.sentences for r in rows)
    for row in rows:
        assert all(0 <= s < e <= len(row.text) for s, e in row.sentences)
    passage = seeded.retrieve("Which cities were hit?", top_k=1).passages[0]
    assert passage.sentence_spans
    assert "sentence_spans" not in json.dumps(seeded.ask("Which cities were hit?").to_dict())


def test_catalog_from_before_sentences_is_migrated_and_still_answers(settings, embed_model):
    from index.catalog import Catalog
    from index.engine import Engine

    path = Path(settings.data_dir) / "newsdesk.sqlite3"
    path.parent.mkdir(parents=True)
    db = sqlite3.connect(path)
    db.executescript("CREATE TABLE chunks (id TEXT PRIMARY KEY, article_id TEXT NOT NULL, ordinal INTEGER NOT NULL,"
                     " text TEXT NOT NULL, embed_key TEXT NOT NULL);")
    db.close()
    Catalog(path).close()
    columns = [r[1] for r in sqlite3.connect(path).execute("PRAGMA table_info(chunks)")]
    assert "sentences" in columns
    engine = Engine(settings, embed_model=embed_model)
    try:
        engine.ensure_seeded()
        assert "Kharkiv" in engine.ask("Which cities were hit?").text
    finally:
        engine.close()


def test_retrieval_scores_chunks_with_the_vectors_kept_beside_bm25(engine):
    engine.add_article(Article(title="Flooding closes Yellowstone", body="Severe flooding washed out roads and "
                               "bridges in Yellowstone National Park this week. " * 3, published=date(2022, 6, 15)))
    engine.add_article(Article(title="Ford recall", body="Ford recalled 2.9 million vehicles this week over a "
                               "defect that can make them roll away. " * 3, published=date(2022, 6, 15)))
    keywords = engine._keywords.current()
    assert keywords.vectors.shape == (len(keywords.ids), 384)
    assert np.allclose(np.linalg.norm(keywords.vectors, axis=1), 1.0, atol=1e-3)
    top = engine.retrieve("Which automaker recalled vehicles?", as_of=date(2022, 6, 16), top_k=1).passages[0]
    assert top.title == "Ford recall"


def test_asking_from_a_fresh_process_does_not_import_llamaindex_or_nltk(seeded, settings):
    """What keeps `newsdesk ask` starting quickly: the question path needs neither library."""
    seeded.close()
    script = (
        "import sys\n"
        "from index.engine import Engine\n"
        "from index.settings import Settings\n"
        f"engine = Engine(Settings(data_dir={str(settings.data_dir)!r}, seeds_dir={str(settings.seeds_dir)!r}))\n"
        "engine.ensure_seeded()\n"
        "answer = engine.ask('Which cities were hit?')\n"
        "assert 'Kharkiv' in answer.text, answer.text\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'llama_index', 'nltk', 'trafilatura', 'pypdf'}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_changes_refresh_the_keyword_index_before_they_return(seeded):
    seeded.add_article(Article(title="Ferry service resumes", body="The ferry between Gdansk and Ystad runs "
                               "again after the strike ended, the operator said on Monday."))
    assert seeded._keywords._version == seeded._catalog.version  # no question has to wait for it


def test_questions_use_the_previous_keyword_index_while_another_thread_rebuilds_it(seeded):
    keywords = seeded._keywords
    before = keywords.current()
    with keywords._lock:  # as if another thread were rebuilding it
        seeded._catalog.set_state("version", str(seeded._catalog.version + 1))
        assert keywords.current() is before
        assert seeded.retrieve("Which cities were hit?").passages
    assert keywords.current() is not before


def test_many_adds_in_a_row_leave_the_keyword_index_to_the_next_question(seeded):
    before = seeded._keywords._version
    for i in range(3):
        seeded.add_article(Article(title=f"Ferry {i}", body=f"Ferry line {i} between Gdansk and Ystad resumed "
                                   "service on Monday after the strike ended."), refresh=False)
    assert seeded._keywords._version == before != seeded._catalog.version  # not rebuilt three times
    assert seeded.retrieve("Which ferry line resumed service between Gdansk and Ystad?").passages[0].title.startswith("Ferry")
    assert seeded._keywords._version == seeded._catalog.version
