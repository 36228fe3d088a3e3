"""The engine end to end: real embedding model, real Chroma in tmp_path."""

from __future__ import annotations

from datetime import date

import pytest

from index.articles import Article
from index.errors import ArticleNotFound, InvalidInput, StoreError
from index.results import NOT_COVERED, Turn


def _article(title: str, body: str, **kw) -> Article:
    return Article(title=title, body=body, **kw)


FLOOD_1 = _article(
    "River floods the old town",
    "Heavy rain made the Elbe river burst its banks in Dresden. Firefighters evacuated 300 residents "
    "from the old town and the bridges were closed to traffic.",
    outlet="Daily Test",
    published=date(2024, 3, 2),
    url="https://news.example/flood-2024",
)
FLOOD_2 = _article(
    "River floods the old town again",
    "Heavy rain made the Elbe river burst its banks in Dresden once more. Firefighters evacuated 120 "
    "residents from the old town; the main bridge stayed open.",
    outlet="Daily Test",
    published=date(2025, 9, 14),
    url="https://news.example/flood-2025",
)


def test_seed_question_names_the_cities_and_cites_the_seed(seeded):
    answer = seeded.ask("Which cities were hit?")
    assert answer.covered
    for city in ("Kyiv", "Kharkiv", "Zaporizhzhia"):
        assert city in answer.text
    first = answer.citations[0].passage
    assert first.title.startswith("Russia escalates drone and missile strikes")
    assert first.published is None  # the text names no date: it stays unknown
    assert "Kyiv" in first.text
    for sentence in answer.sentences:  # every cited sentence stands in the passage it cites
        for n in sentence.citations:
            assert sentence.text in answer.citations[n - 1].passage.text


def test_seeding_happens_once(seeded):
    assert seeded.status().articles == 2
    assert seeded.ensure_seeded() == 0
    dated = [i for i in seeded.list_articles() if i.published]
    assert [i.published for i in dated] == [date(2023, 10, 24)]


def test_not_covered_answer_cites_nothing(seeded):
    answer = seeded.ask("What is the best recipe for banana bread?")
    assert not answer.covered
    assert answer.text == NOT_COVERED
    assert answer.citations == ()


def test_empty_question_is_refused(seeded):
    with pytest.raises(InvalidInput):
        seeded.ask("   ")


@pytest.mark.parametrize("as_of", [date(1, 1, 1), date(9999, 12, 31)])
def test_as_of_dates_out_of_range_are_refused_not_overflowed(seeded, as_of):
    with pytest.raises(InvalidInput, match="out of range"):
        seeded.ask("Which cities were hit?", as_of=as_of)


@pytest.mark.parametrize(
    "question", ["What happened on 0001-01-01?", "What happened on 9999-12-31?", "What happened on January 1?"]
)
def test_questions_naming_extreme_dates_are_answered(seeded, question):
    seeded.add_article(
        Article(
            title="Ancient record", body="A record from the first year was found in a cave.", published=date(1, 1, 1)
        )
    )
    seeded.add_article(
        Article(
            title="Far future", body="A time capsule is to be opened in the last year.", published=date(9999, 12, 31)
        )
    )
    assert seeded.ask(question, as_of=date(2024, 1, 5)).question == question


def test_adding_twice_changes_nothing(engine):
    first = engine.add_article(FLOOD_1)
    again = engine.add_article(FLOOD_1)
    assert (first.status, again.status) == ("added", "unchanged")
    assert engine.status().chunks == first.article.chunks
    assert engine.status().extra["vectors"] == first.article.chunks


def test_changed_version_replaces_old_chunks(engine):
    engine.add_article(FLOOD_1)
    changed = Article(
        title=FLOOD_1.title,
        body=FLOOD_1.body.replace("300 residents", "450 residents"),
        outlet=FLOOD_1.outlet,
        published=FLOOD_1.published,
        url=FLOOD_1.url + "/?utm_source=x",
    )
    assert changed.id == FLOOD_1.id
    result = engine.add_article(changed)
    assert result.status == "replaced"
    assert engine.status().articles == 1
    assert engine.status().extra["vectors"] == result.article.chunks
    passages = engine.retrieve("How many residents were evacuated?", as_of=date(2024, 3, 3)).passages
    assert all("300 residents" not in p.text for p in passages)
    assert any("450 residents" in p.text for p in passages)


def test_remove_takes_every_chunk_and_is_idempotent_in_effect(engine):
    engine.add_article(FLOOD_1)
    engine.add_article(FLOOD_2)
    removed = engine.remove(FLOOD_1.id)
    assert removed.title == FLOOD_1.title
    assert engine.status().articles == 1
    assert engine.status().extra["vectors"] == engine.status().chunks
    assert all(p.article_id == FLOOD_2.id for p in engine.retrieve("Elbe flood Dresden").passages)
    with pytest.raises(ArticleNotFound):
        engine.remove(FLOOD_1.id)


def test_failed_write_leaves_nothing_half_added(engine, monkeypatch):
    import index.ingest

    engine.add_article(FLOOD_1)
    before = engine.status()

    def broken_save(*args, **kwargs):  # the catalog transaction fails after the vectors were written
        raise StoreError("disk full")

    monkeypatch.setattr(index.ingest, "_save", broken_save)
    with pytest.raises(StoreError):
        engine.add_article(FLOOD_2)
    monkeypatch.undo()
    after = engine.status()
    assert (after.articles, after.chunks, after.extra) == (before.articles, before.chunks, before.extra)
    assert engine._view.live().chunk_ids() == engine._catalog.chunk_ids()
    assert not engine._catalog.query("SELECT * FROM pending_vectors")
    assert all(p.article_id == FLOOD_1.id for p in engine.retrieve("Elbe flood").passages)


def test_as_of_date_changes_which_article_ranks_first(engine):
    engine.add_article(FLOOD_1)
    engine.add_article(FLOOD_2)
    question = "How many residents were evacuated from the old town this week?"
    early = engine.retrieve(question, as_of=date(2024, 3, 5)).passages
    late = engine.retrieve(question, as_of=date(2025, 9, 16)).passages
    assert early[0].article_id == FLOOD_1.id
    assert late[0].article_id == FLOOD_2.id
    assert "300" in engine.ask(question, as_of=date(2024, 3, 5)).text
    assert "120" in engine.ask(question, as_of=date(2025, 9, 16)).text


LYON_FIRE = _article(
    "Thousands evacuated as fire spreads in Lyon",
    "Firefighters evacuated 1,200 people from homes in Lyon as a warehouse fire spread on Saturday. People were "
    "evacuated to schools and sports halls; the evacuation of the district continued overnight.",
    outlet="Daily Test",
    published=date(2024, 3, 2),
    url="https://news.example/lyon-fire",
)


DRESDEN_FLOOD = _article(
    "Elbe floods Dresden",
    "Heavy rain made the Elbe burst its banks in Dresden on Saturday. Firefighters evacuated "
    "300 residents of Dresden's old town, and the city's bridges were closed.",
    outlet="Daily Test",
    published=date(2024, 3, 2),
    url="https://news.example/dresden-flood",
)


def test_a_follow_up_is_read_with_the_conversation(engine):
    engine.add_articles([DRESDEN_FLOOD, LYON_FIRE])
    question = "How many people were evacuated there?"
    alone = engine.ask(question, as_of=date(2024, 3, 3))
    assert alone.sentences[0].text.startswith("Firefighters evacuated 1,200")  # on its own: the bigger story
    history = [Turn("What happened in Dresden?", "Heavy rain made the Elbe burst its banks in Dresden. [1]")]
    follow_up = engine.ask(question, as_of=date(2024, 3, 3), history=history)
    assert follow_up.rewritten == "How many people were evacuated in Dresden?"
    assert "300" in follow_up.sentences[0].text and follow_up.citations[0].passage.article_id == DRESDEN_FLOOD.id
    assert follow_up.to_dict()["rewritten"] == follow_up.rewritten


def test_rebuild_switches_over_and_reuses_embeddings(seeded):
    old = seeded.status()
    seen = []
    report = seeded.rebuild(lambda done, total: seen.append((done, total)))
    new = seeded.status()
    assert new.collection != old.collection
    assert (new.articles, new.chunks, new.extra["vectors"]) == (old.articles, old.chunks, old.chunks)
    assert report.embedded == 0 and report.cached == old.chunks
    assert seen[-1] == (2, 2)
    assert "Kyiv" in seeded.ask("Which cities were hit?").text


def test_interrupted_rebuild_keeps_the_old_index_answering(seeded):
    old = seeded.status()

    def interrupt(done, total):
        if done > 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        seeded.rebuild(interrupt)
    assert seeded.status().collection == old.collection
    assert not seeded.rebuilding
    assert "Kyiv" in seeded.ask("Which cities were hit?").text
    assert seeded._handle.names("newsdesk") == [old.collection, f"{old.collection}-titles"]


def test_article_added_during_rebuild_is_in_the_new_index(seeded):
    def add_midway(done, total):
        if done == 0:
            seeded.add_article(FLOOD_1)

    seeded.rebuild(add_midway)
    status = seeded.status()
    assert status.articles == 3 and status.extra["vectors"] == status.chunks
    assert seeded.retrieve("Elbe flood Dresden", as_of=date(2024, 3, 3)).passages[0].article_id == FLOOD_1.id


def test_reopened_engine_keeps_everything(settings, embed_model, seeded):
    from index.engine import Engine

    before = seeded.status()
    seeded.close()
    reopened = Engine(settings, embed_model=embed_model)
    after = reopened.status()
    assert (after.articles, after.chunks, after.collection) == (before.articles, before.chunks, before.collection)
    assert "Kyiv" in reopened.ask("Which cities were hit?").text
    reopened.close()


def test_a_day_named_without_a_year_finds_that_days_article_of_an_earlier_year(seeded):
    passages = seeded.retrieve("What happened on October 24?", as_of=date(2026, 11, 23)).passages
    assert passages[0].published == date(2023, 10, 24)


def test_changed_chunking_is_detected_and_a_rebuild_rechunks_the_stored_articles(settings, embed_model, seeded):
    from dataclasses import replace as with_changes

    from index.engine import Engine

    before = seeded._catalog.chunk_ids()
    seeded.close()
    smaller = Engine(with_changes(settings, chunk_size=120, chunk_overlap=10), embed_model=embed_model)
    try:
        assert smaller.needs_rebuild()
        assert "Kharkiv" in smaller.ask("Which cities were hit?").text  # the old index answers meanwhile
        report = smaller.rebuild()
        rows = smaller._catalog.chunks_of(smaller._catalog.article_ids())
        assert len(rows) > len(before) and report.chunks == len(rows)
        assert all(r.sentences for r in rows)
        assert smaller._view.live().chunk_ids() == {r.id for r in rows}  # the collection and the catalog agree
        assert not smaller.needs_rebuild()
        answer = smaller.ask("Which cities were hit?")
        texts = [r.text for r in rows]  # a source quotes its article's chunks (several joined by " … ")
        assert answer.citations and all(
            any(piece in t for t in texts) for c in answer.citations for piece in c.quote.split(" … ")
        )
        assert any("Kharkiv" in p.text for p in smaller.retrieve("Which cities were hit?").passages)
    finally:
        smaller.close()


@pytest.mark.parametrize("rechunk", [False, True], ids=["same chunking", "changed chunking"])
def test_article_replaced_during_a_rebuild_keeps_its_new_chunks(seeded, monkeypatch, rechunk):
    seeded.add_article(FLOOD_1)
    if rechunk:
        seeded._catalog.set_state(chunking="an older chunking")
    assert seeded.needs_rebuild() is rechunk
    newer = _article(
        FLOOD_1.title,
        FLOOD_1.body + " Officials later raised the count to 350.",
        url=FLOOD_1.url,
        published=FLOOD_1.published,
    )
    fill = seeded._generations._fill

    def fill_then_replace(*args):
        result = fill(*args)
        seeded.add_article(newer)  # arrives while the rebuild is finishing
        return result

    monkeypatch.setattr(seeded._generations, "_fill", fill_then_replace)
    seeded.rebuild()
    texts = " ".join(r.text for r in seeded._catalog.chunks(FLOOD_1.id))
    assert "350" in texts
    assert seeded._view.live().chunk_ids() == seeded._catalog.chunk_ids()
    assert seeded._view.live().title_ids() == set(seeded._catalog.article_ids())


def test_rebuild_with_unchanged_chunking_reuses_the_stored_chunks_as_they_were(seeded, monkeypatch):
    import index.generations

    before = seeded._catalog.chunks_of(seeded._catalog.article_ids())
    monkeypatch.setattr(index.generations, "chunk_article", lambda *a, **k: pytest.fail("articles were split again"))
    report = seeded.rebuild()
    after = seeded._catalog.chunks_of(seeded._catalog.article_ids())
    assert [(r.id, r.text) for r in after] == [(r.id, r.text) for r in before] and report.embedded == 0
    assert seeded._view.live().chunk_ids() == {r.id for r in before}
    assert "Kyiv" in seeded.ask("Which cities were hit?").text


def test_the_peace_talks_seed_is_covered(seeded):
    answer = seeded.ask("What happened a day before the peace talks?")
    assert answer.covered and any("talks" in s.text for s in answer.sentences)


def test_one_article_twice_in_a_batch_is_added_once_in_its_last_version(engine):
    from dataclasses import replace as with_changes

    first = with_changes(FLOOD_1, url="https://news.example/flood/index.html")
    later = with_changes(FLOOD_2, url="https://news.example/flood?utm_source=feed")
    results = engine.add_articles([first, later])
    assert [r.status for r in results] == ["added", "added"] and results[0].article.id == later.id
    assert engine.get_article(later.id).body == FLOOD_2.body and engine.status().articles == 1
    version = engine._catalog.change_seq()
    assert [r.status for r in engine.add_articles([first, later])] == ["unchanged", "unchanged"]
    assert engine._catalog.change_seq() == version  # nothing written again
