"""The extractive answerer picks sentences that state something, with the real embedding model."""

from __future__ import annotations

from datetime import date

import pytest

from index.answer import ExtractiveAnswerer
from index.results import Passage

QUIZ = (
    "Test your knowledge of the week's news. Scientists have revived what animal that was frozen in "
    "the Siberian permafrost? Which city hosted the summit?"
)
REPORT = (
    "Researchers in Russia revived a microscopic roundworm that had been frozen in the Siberian "
    "permafrost for 46,000 years. The nematode went on to reproduce in the laboratory."
)


def _passage(n: int, text: str, score: float) -> Passage:
    return Passage(f"c{n}", f"a{n}", text, f"Story {n}", "Daily News", date(2023, 7, 28), None, score=score)


def test_a_quiz_that_repeats_the_question_is_not_quoted_as_its_answer(embed_model):
    question = "Scientists have revived what animal that was frozen in the Siberian permafrost?"
    answer = ExtractiveAnswerer(embed_model).answer(
        question, [_passage(1, QUIZ, 1.0), _passage(2, REPORT, 0.9)], as_of=date(2023, 8, 4)
    )
    assert answer.covered
    assert not any(s.text.endswith("?") for s in answer.sentences)
    assert "roundworm" in answer.text and answer.citations[0].passage.article_id == "a2"


def test_a_headline_that_states_the_news_is_quoted_and_its_citation_shows_it(embed_model):
    from bench.scoring import citations_hold

    page = Passage(
        "c3",
        "a3",
        "How relevant is this ad to you? Video player was slow to load content.",
        "Nissan recalls more than 200,000 pickup trucks due to rollaway risk - CNN",
        "cnn.com",
        date(2022, 9, 18),
        None,
        score=1.0,
    )
    other = _passage(4, "Dealers said the new models sold well in the spring. Prices rose again in May.", 0.5)
    answer = ExtractiveAnswerer(embed_model).answer(
        "Which automaker recalled more than 200,000 pickup trucks?", [page, other], as_of=date(2022, 9, 22)
    )
    assert answer.sentences[0].text == "Nissan recalls more than 200,000 pickup trucks due to rollaway risk"
    cited = answer.citations[0]
    assert cited.headline and cited.quote.startswith(page.title) and cited.quote.endswith(page.text)
    assert citations_hold(answer)


def test_headlines_lose_the_outlet_suffix_and_questions_are_not_headlines():
    from index.answer import headline

    def line(title: str, outlet: str | None) -> str:
        return headline(Passage("c", "a", "text", title, outlet, None, None))

    assert (
        line("Donald Trump announces a White House bid for 2024 | CNN Politics", "cnn.com")
        == "Donald Trump announces a White House bid for 2024"
    )
    assert line("Snake named after Harrison Ford | The Week UK", "The Week") == "Snake named after Harrison Ford"
    assert line("Biden - Harris ticket gains in the polls", "cnn.com") == "Biden - Harris ticket gains in the polls"
    assert line("Does turkey make you sleepy after dinner?", "cnn.com") == ""
    assert line("", "cnn.com") == "" and line("Short title", None) == ""


def test_more_sentences_than_are_embedded_are_shortlisted_by_the_words_they_share_with_the_question(embed_model):
    filler = " ".join(
        f"Dealers in town number {i} reported a quiet week of sales and steady prices." for i in range(12)
    )
    passage = _passage(1, filler + " Ford is recalling 2.9 million vehicles because they may roll away.", 1.0)
    answer = ExtractiveAnswerer(embed_model).answer(
        "How many vehicles did Ford recall?", [passage], as_of=date(2023, 8, 1)
    )
    assert answer.sentences[0].text.startswith("Ford is recalling 2.9 million vehicles")


def test_a_sentence_that_repeats_one_already_chosen_is_left_out(embed_model):
    first = (
        "The Harbor Bridge will reopen to traffic on June 3 after eight months of repairs, the city said. "
        "Repairs cost 42 million dollars."
    )
    copy = (
        "The Harbor Bridge will reopen to traffic on June 3 after eight months of repairs, the city announced. "
        "Tolls will not change."
    )
    answer = ExtractiveAnswerer(embed_model).answer(
        "When will the Harbor Bridge reopen to traffic?",
        [_passage(1, first, 1.0), _passage(2, copy, 0.95)],
        as_of=date(2023, 8, 4),
    )
    reopen = [s.text for s in answer.sentences if "reopen" in s.text]
    assert len(reopen) == 1  # said once, not twice in other words


# the answer first ------------------------------------------------------------------------------------------------
RECALL = (
    "Pickup trucks that may roll away when parked are being recalled over the rollaway risk, federal safety "
    "regulators said on Tuesday. Nissan is recalling 203,000 pickup trucks built between 2018 and 2021. "
    "Owners will be told by mail in March."
)
DEALERS = (
    "Dealers said Nissan would fix the trucks for free. Owners of the affected pickups should park on flat ground."
)


def test_the_sentence_that_answers_comes_first_after_its_short_answer(embed_model):
    answer = ExtractiveAnswerer(embed_model).answer(
        "Which automaker is recalling pickup trucks over a rollaway risk?",
        [_passage(1, RECALL, 1.0), _passage(2, DEALERS, 0.8)],
        as_of=date(2023, 8, 1),
    )
    # The context sentence scores best on its own; the one naming the automaker the passages agree on leads.
    assert answer.sentences[0].text == "Nissan is recalling 203,000 pickup trucks built between 2018 and 2021."
    assert answer.lead == "Nissan" and answer.text.startswith("Nissan — Nissan is recalling 203,000 pickup trucks")
    assert answer.sentences[1].text.startswith("Pickup trucks that may roll away")  # the context that supports it


def test_a_number_asked_for_leads_with_its_unit(embed_model):
    filler = " ".join(f"Dealers in town number {i} reported a quiet week of sales and steady prices." for i in range(3))
    passage = _passage(1, "Ford is recalling 2.9 million vehicles because they may roll away. " + filler, 1.0)
    answer = ExtractiveAnswerer(embed_model).answer(
        "How many vehicles did Ford recall?", [passage], as_of=date(2023, 8, 1)
    )
    assert answer.lead == "2.9 million vehicles" and answer.sentences[0].text.startswith("Ford is recalling")


def test_no_short_answer_when_the_question_asks_for_none_or_the_passages_disagree(embed_model):
    answerer = ExtractiveAnswerer(embed_model)
    why = answerer.answer(
        "Why are pickup trucks being recalled?",
        [_passage(1, RECALL, 1.0), _passage(2, DEALERS, 0.8)],
        as_of=date(2023, 8, 1),
    )
    assert why.covered and why.lead is None and not why.text.startswith("Nissan —")
    split = answerer.answer(
        "Which automaker is recalling pickup trucks over a rollaway risk?",
        [
            _passage(1, "Nissan is recalling 203,000 pickup trucks that may roll away when parked.", 1.0),
            _passage(2, "Toyota is recalling 198,000 pickup trucks that may roll away when parked.", 1.0),
        ],
        as_of=date(2023, 8, 1),
    )
    assert split.covered and split.lead is None  # one says Nissan, the other Toyota: no side is taken in bold


def test_short_answers_are_names_numbers_dates_or_places_the_question_does_not_already_say():
    from index.answer_types import answer_spans, asks_for

    assert asks_for("Which automaker recalled the trucks?") == "name" and asks_for("Who won?") == "name"
    assert asks_for("Where is the volcano?") == "place" and asks_for("In which country did it happen?") == "place"
    assert asks_for("How many people were evacuated?") == "number" and asks_for("When will it open?") == "date"
    assert asks_for("Why did the cities cancel their fireworks?") is None
    q = "Which team won the Stanley Cup?"
    assert answer_spans("name", q, "The Colorado Avalanche beat the Tampa Bay Lightning to win the Stanley Cup.") == [
        "Colorado Avalanche",
        "Tampa Bay Lightning",
    ]  # the question's own words are not an answer
    assert answer_spans("name", q, "Meanwhile, fans of the Avalanche celebrated in Denver.") == ["Avalanche", "Denver"]
    assert answer_spans("name", q, "Dangerous crowds gathered, according to Reuters.") == []  # a source is no answer
    assert answer_spans("name", q, "Intel opened its plant.") == ["Intel"]  # a name that starts a sentence
    assert answer_spans("name", q, "Shares of Intel rose.", names=set()) == ["Intel"]
    assert answer_spans("name", q, "Bank of England staff rose.", names={"Bank"}) == ["Bank of England"]
    assert answer_spans("name", q, "Chipmaker opens a plant", headline=True) == []  # a headline's style capital
    assert answer_spans("name", q, "Gov. Ron DeSantis signed it on Monday.") == ["Gov. Ron DeSantis"]
    assert answer_spans("number", "How many minutes did it last?", "It lasted 187 minutes on June 19, 2022.") == [
        "187 minutes"
    ]  # with the unit asked for; a date's numbers are not counts
    assert answer_spans("date", "When will it be ready?", "Jha said it would be ready in early to mid-September.") == [
        "mid-September"
    ]


def test_the_extractive_answer_comes_whole_and_reports_no_text_while_written(embed_model):
    reported: list[str] = []
    answer = ExtractiveAnswerer(embed_model).answer(
        "Which automaker is recalling pickup trucks?",
        [_passage(1, RECALL, 1.0)],
        as_of=date(2023, 8, 1),
        on_text=reported.append,
    )
    assert answer.covered and reported == []  # only an answerer that streams reports text as it goes


# what the faces are told ----------------------------------------------------------------------------------------
def test_citations_say_where_the_answer_sentences_sit_and_headlines_are_marked(embed_model):
    page = Passage(
        "c3",
        "a3",
        "How relevant is this ad to you? Video player was slow to load content.",
        "Nissan recalls more than 200,000 pickup trucks due to rollaway risk - CNN",
        "cnn.com",
        date(2022, 9, 18),
        None,
        score=1.0,
    )
    answer = ExtractiveAnswerer(embed_model).answer(
        "Which automaker is recalling pickup trucks over a rollaway risk?",
        [page, _passage(1, RECALL, 0.9), _passage(2, DEALERS, 0.8)],
        as_of=date(2023, 8, 1),
    )
    by_number = {c.number: c for c in answer.citations}
    for sentence in answer.sentences:
        cited = by_number[sentence.citations[0]]
        if sentence.headline:
            assert cited.headline
            assert sentence.text == "Nissan recalls more than 200,000 pickup trucks due to rollaway risk"
        else:
            assert any(cited.passage.text[start:end] == sentence.text for start, end in cited.quoted)
    assert any(s.headline for s in answer.sentences) and any(not s.headline for s in answer.sentences)
    assert all(
        len(c.quoted) == sum(not s.headline for s in answer.sentences if c.number in s.citations)
        for c in answer.citations
    )


def test_a_headline_cut_with_an_ellipsis_is_quoted_tidied(embed_model):
    from bench.scoring import citations_hold

    page = Passage(
        "c5",
        "a5",
        "How relevant is this ad to you? Video player was slow to load content.",
        "Sudan's Prime Minister resigns amid violent anti-coup protests that ...",
        "cnn.com",
        date(2022, 1, 3),
        None,
        score=1.0,
    )
    answer = ExtractiveAnswerer(embed_model).answer(
        "Why did Sudan's prime minister resign?", [page], as_of=date(2022, 1, 5)
    )
    assert answer.sentences[0].text == "Sudan's Prime Minister resigns amid violent anti-coup protests"
    assert answer.sentences[0].headline and answer.citations[0].quote.startswith(answer.sentences[0].text + "\n")
    assert citations_hold(answer) and "..." not in answer.citations[0].quote


@pytest.mark.parametrize(
    "title, shown",
    [
        (
            "Sudan's Prime Minister resigns amid violent anti-coup protests that ...",
            "Sudan's Prime Minister resigns amid violent anti-coup protests",
        ),
        (
            "Elizabeth Holmes trial verdict: Guilty on four out of 11 charges | CNN ...",
            "Elizabeth Holmes trial verdict: Guilty on four out of 11 charges",
        ),
        (
            "The curious story of Elon Musk's Tesla stock sales and SpaceX's ...",
            "The curious story of Elon Musk's Tesla stock sales",
        ),
        ("Tram line 9\n extended  to Vesna harbour", "Tram line 9 extended to Vesna harbour"),
    ],
)
def test_titles_cut_short_end_at_their_last_whole_phrase(title, shown):
    from index.results import ArticleInfo
    from index.text import tidy_title

    assert tidy_title(title) == shown
    assert Passage("c", "a", "text", title, None, None, None).display_title == shown
    assert ArticleInfo("a", title, None, None, None, 1).display_title == shown


def _chip_passages(outlet: str = "Daily News") -> list[Passage]:
    return [
        Passage(
            "c1",
            "a1",
            "The chip plant will be built near Dresden, officials said. Intel said it would hire 3,000 workers there.",
            "Chip plant",
            outlet,
            date(2023, 7, 28),
            None,
            score=1.0,
        ),
        Passage(
            "c2",
            "a2",
            "Intel beat Samsung to the contract for the chip plant. Shares of Intel rose 2% on the news.",
            "Contract",
            outlet,
            date(2023, 7, 28),
            None,
            score=0.9,
        ),
    ]


def test_the_answer_the_passages_agree_on_leads_even_from_sentences_not_scored_against_the_question():
    from index.answer import Candidate, passage_sentences
    from index.leads import choose_lead

    passages = _chip_passages()
    scored = [
        Candidate("The chip plant will be built near Dresden, officials said.", 0, 0, 0.95, 0.7, 0.5),
        Candidate("Intel beat Samsung to the contract for the chip plant.", 1, 0, 0.9, 0.7, 0.6),
    ]
    lead = choose_lead(
        "Which company won the contract for the chip plant?", scored, passages, [passage_sentences(p) for p in passages]
    )
    assert lead.sentence is scored[1]  # Intel, named again by two sentences the answerer did not score


def test_neither_the_outlet_that_reports_it_nor_whom_the_question_names_by_another_title_is_the_answer():
    from index.leads import Spotter

    question = "Which company won the contract for the chip plant?"
    sentence = "Intel won the contract, CNN has learned."
    assert [s for s, _ in Spotter("name", question, _chip_passages("cnn.com"))(sentence)] == ["Intel"]
    assert [s for s, _ in Spotter("name", question, _chip_passages("Daily News"))(sentence)] == ["Intel", "CNN"]
    spot = Spotter("name", "Which company did Governor Ron DeSantis meet?", _chip_passages())
    assert [s for s, _ in spot("Gov. Ron DeSantis met Intel on Monday.")] == ["Intel"]
