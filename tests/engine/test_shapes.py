"""Answer shapes on a real engine (real embedding model, embedded Chroma) holding running stories: the latest
reports, what changed since a day, timelines, a period's top stories, outlets side by side, figures over time,
old news, one source per article and copy."""

from __future__ import annotations

from datetime import date

from bench.scoring import citations_hold
from index import Answer, Engine, Settings
from index.shapes import by_coverage
from index.story_view import Member

from . import story_docs as docs

AS_OF = date(2024, 9, 13)


def cited_ids(answer: Answer) -> list[str]:
    return [c.passage.article_id for c in answer.citations]


def well_formed(answer: Answer) -> None:
    """Every shaped answer: covered, each sentence's quote in its source, each article one source."""
    assert answer.covered and answer.sentences
    assert citations_hold(answer)
    ids = cited_ids(answer)
    assert len(ids) == len(set(ids))


def test_latest_leads_with_the_newest_reports_up_to_the_as_of_date(newsroom):
    answer = newsroom.ask("What's the latest on Hurricane Delia?", as_of=AS_OF)
    well_formed(answer)
    assert answer.shape == "latest"
    days = [s.day for s in answer.sentences]
    assert days[0] == date(2024, 9, 12) and days == sorted(days, reverse=True)  # DELIA_4 (09-14) is after as_of
    assert answer.heading.startswith("As of 2024-09-12")
    assert "latest coverage" not in answer.text  # "latest" steers time; it is not matched as a word
    assert all(s.label.startswith(s.day.isoformat()) for s in answer.sentences)


def test_latest_as_of_a_later_date_moves_on(newsroom):
    answer = newsroom.ask("Any news on Hurricane Delia?", as_of=date(2024, 9, 20))
    assert answer.shape == "latest" and answer.sentences[0].day == date(2024, 9, 14)
    assert answer.heading.startswith("As of 2024-09-14")


def test_since_says_what_the_reports_from_that_day_on_add(newsroom):
    answer = newsroom.ask("What has changed since Thursday with Hurricane Delia?", as_of=AS_OF)  # 2024-09-12
    well_formed(answer)
    assert answer.shape == "since" and answer.heading.startswith("Since 2024-09-12")
    assert all(s.day is not None and s.day >= date(2024, 9, 12) for s in answer.sentences)
    assert any(n in answer.text for n in ("27", "31"))  # the new toll, which the earlier reports did not give


def test_since_a_day_after_the_last_report_says_nothing_is_new(newsroom):
    answer = newsroom.ask("What has changed since yesterday with Ilse Varga?", as_of=date(2024, 9, 20))
    assert answer.shape == "since" and answer.heading.startswith("Nothing new since 2024-09-19")
    assert any("Nothing on this story is dated on or after 2024-09-19" in n for n in answer.notes)


def test_timeline_gives_dated_items_in_date_order_each_article_once(newsroom):
    answer = newsroom.ask("Give me a timeline of Hurricane Delia", as_of=date(2024, 9, 20))
    well_formed(answer)
    assert answer.shape == "timeline"
    days = [s.day for s in answer.sentences]
    assert days == sorted(days) and days[0] == date(2024, 9, 10) and days[-1] == date(2024, 9, 14)
    assert docs.DELIA_1_COPY.id not in cited_ids(answer)  # the wire copy is not a second source...
    first = answer.citations[0]
    assert first.passage.article_id == docs.DELIA_1.id and first.also == (docs.COAST,)  # ...it is "also"


def test_how_a_story_unfolded_is_a_timeline_too(newsroom):
    answer = newsroom.ask("How did the Varga government crisis unfold?", as_of=AS_OF)
    assert answer.shape == "timeline"
    assert [c.passage.article_id for c in answer.citations] == [a.id for a in docs.VARGA]


def test_todays_news_is_the_days_stories_by_coverage_one_line_each(newsroom):
    answer = newsroom.ask("What happened today?", as_of=date(2024, 9, 12))
    well_formed(answer)
    assert answer.shape == "digest"
    assert answer.sentences[0].label == "2 outlets, 2 reports"  # the storm: the most covered story first
    assert answer.citations[0].passage.article_id in {docs.DELIA_3.id, docs.DELIA_3_OTHER.id}
    cited = set(cited_ids(answer))
    assert {docs.VARGA_2.id, docs.TRAM.id, docs.LIONS.id} <= cited
    assert not {docs.DELIA_3.id, docs.DELIA_3_OTHER.id} <= cited  # one line per story
    assert all(c.passage.published == date(2024, 9, 12) for c in answer.citations)


def test_this_weeks_news_ranks_stories_by_outlets_then_reports(newsroom):
    answer = newsroom.ask("Summarise this week's news", as_of=date(2024, 9, 14))
    labels = [s.label for s in answer.sentences]
    assert labels[:2] == ["3 outlets, 6 reports", "2 outlets, 3 reports"]


def test_a_digest_of_a_day_without_news_says_so_and_shows_the_newest_day(newsroom):
    answer = newsroom.ask("What happened today?", as_of=date(2024, 9, 20))
    assert any("Nothing in the index is dated on 2024-09-20" in n for n in answer.notes)
    assert all(c.passage.published == date(2024, 9, 14) for c in answer.citations)


def test_outlets_side_by_side_by_the_outlet_field(newsroom):
    answer = newsroom.ask("Compare Gulf Herald and Bay Courier on Hurricane Delia", as_of=date(2024, 9, 20))
    well_formed(answer)
    assert answer.shape == "outlets"
    outlets = [c.passage.outlet for c in answer.citations]
    assert set(outlets) == {docs.GULF, docs.BAY}
    by_number = {c.number: c for c in answer.citations}
    for s in answer.sentences:
        assert s.label.startswith(by_number[s.citations[0]].passage.outlet or "")
    labels = [s.label.split(",")[0] for s in answer.sentences]
    assert labels == sorted(labels, key=[docs.GULF, docs.BAY].index)  # grouped, in the question's order


def test_an_outlet_is_its_articles_not_its_name_in_the_text(newsroom):
    answer = newsroom.ask("How did the Gulf Herald cover Ilse Varga?", as_of=AS_OF)
    assert answer.shape == "outlets"
    assert cited_ids(answer) == [docs.VARGA_2.id]  # VARGA_1 names the Gulf Herald, but Bay Courier wrote it


def test_figures_that_changed_are_given_with_their_dates_and_a_same_day_difference_as_such(newsroom):
    answer = newsroom.ask("How many people did Hurricane Delia kill?", as_of=AS_OF)
    assert answer.shape == "answer"
    kinds = {u.kind: u for u in answer.updates}
    update = kinds["update"]
    assert update.what == "people"
    values = [(v.value, v.day) for v in update.values]
    assert values[0] == ("12", date(2024, 9, 11)) and ("27", date(2024, 9, 12)) in values
    assert [v.day for v in update.values] == sorted(v.day for v in update.values)
    differ = kinds["disagreement"]
    assert {(v.value, v.outlet) for v in differ.values} == {("27", docs.GULF), ("31", docs.BAY)}
    assert "12 on 2024-09-11" in update.render() and "outlets differ" in differ.render()


def test_old_news_is_said_to_be_old(newsroom):
    latest = newsroom.ask("What is the latest on the Kessel Valley drought?", as_of=AS_OF)
    assert latest.covered and latest.heading.startswith("As of 2021-06-03")
    assert any("2021-06-03, before the period asked about" in n for n in latest.notes)
    default = newsroom.ask("How many people did Hurricane Delia kill?", as_of=date(2026, 9, 13))
    assert any("later news may not be in the index" in n for n in default.notes)
    recent = newsroom.ask("How many people did Hurricane Delia kill?", as_of=AS_OF)
    assert not any("newest source" in n for n in recent.notes)


def test_a_subject_the_articles_do_not_cover_is_not_covered(newsroom):
    answer = newsroom.ask("What is the latest on the Mars sample return mission?", as_of=AS_OF)
    assert not answer.covered and answer.citations == ()


def test_default_questions_keep_the_default_path(newsroom):
    answer = newsroom.ask("Who declared a state of emergency?", as_of=AS_OF)
    assert answer.shape == "answer" and not answer.heading and "Quint" in answer.text


def test_shaped_answers_are_json_with_their_items(newsroom):
    data = newsroom.ask("Give me a timeline of Hurricane Delia", as_of=AS_OF).to_dict()
    assert data["shape"] == "timeline" and data["sentences"][0]["day"] == "2024-09-10"
    assert data["citations"][0]["also"] == [docs.COAST]


def test_an_outlet_with_nothing_on_the_subject_is_named_in_a_note(newsroom):
    answer = newsroom.ask("Compare Coastal Times and Bay Courier on Ilse Varga", as_of=AS_OF)
    assert answer.shape == "outlets" and {c.passage.outlet for c in answer.citations} == {docs.BAY}
    assert "Coastal Times: nothing on this in the index." in answer.notes


def test_stories_are_ranked_by_outlets_before_reports():
    def story(name: str, *outlets: str) -> list[Member]:
        return [
            Member(f"{name}{i}", name, None, date(2024, 9, 12), o, "T", None, date(2024, 9, 12))
            for i, o in enumerate(outlets)
        ]

    one_outlet_four_reports = story("a", "Herald", "Herald", "Herald", "Herald")
    two_outlets_two_reports = story("b", "Herald", "Courier")
    two_outlets_three_reports = story("c", "Herald", "Courier", "Courier")
    ranked = by_coverage([one_outlet_four_reports, two_outlets_two_reports, two_outlets_three_reports])
    assert [ms[0].story_id for ms in ranked] == ["c", "b", "a"]


def test_shaped_answers_read_only_the_asking_servers_stories(tmp_path, embed_model):
    engine = Engine(Settings(data_dir=tmp_path / "data"), embed_model=embed_model)
    try:
        engine.add_articles([docs.DELIA_1, docs.DELIA_2, docs.DELIA_3], server="111")
        engine.add_articles([docs.TRAM], server="222")

        def cited_urls(answer: Answer) -> set[str | None]:
            return {c.passage.url for c in answer.citations}

        own = engine.ask("Summarise this week's news", as_of=date(2024, 9, 14), server="111")
        assert own.shape == "digest" and docs.DELIA_3.url in cited_urls(own) and docs.TRAM.url not in cited_urls(own)
        other = engine.ask("Summarise this week's news", as_of=date(2024, 9, 14), server="222")
        assert other.shape == "digest" and cited_urls(other) == {docs.TRAM.url}
        latest = engine.ask("What's the latest on the storm Delia?", as_of=date(2024, 9, 14), server="222")
        assert not {docs.DELIA_1.url, docs.DELIA_2.url, docs.DELIA_3.url} & cited_urls(latest)
        tram = engine.ask("What's the latest on the Riverside tram line?", as_of=date(2024, 9, 14), server="222")
        assert tram.shape == "latest" and cited_urls(tram) == {docs.TRAM.url}
    finally:
        engine.close()
