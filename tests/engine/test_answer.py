"""The extractive answerer picks sentences that state something, with the real embedding model."""

from __future__ import annotations

from datetime import date

from index.answer import ExtractiveAnswerer
from index.results import Passage

QUIZ = ("Test your knowledge of the week's news. Scientists have revived what animal that was frozen in "
        "the Siberian permafrost? Which city hosted the summit?")
REPORT = ("Researchers in Russia revived a microscopic roundworm that had been frozen in the Siberian "
          "permafrost for 46,000 years. The nematode went on to reproduce in the laboratory.")


def _passage(n: int, text: str, score: float) -> Passage:
    return Passage(f"c{n}", f"a{n}", text, f"Story {n}", "Daily News", date(2023, 7, 28), None, score=score)


def test_a_quiz_that_repeats_the_question_is_not_quoted_as_its_answer(embed_model):
    question = "Scientists have revived what animal that was frozen in the Siberian permafrost?"
    answer = ExtractiveAnswerer(embed_model).answer(
        question, [_passage(1, QUIZ, 1.0), _passage(2, REPORT, 0.9)], as_of=date(2023, 8, 4))
    assert answer.covered
    assert not any(s.text.endswith("?") for s in answer.sentences)
    assert "roundworm" in answer.text and answer.citations[0].passage.article_id == "a2"


def test_a_headline_that_states_the_news_is_quoted_and_its_citation_shows_it(embed_model):
    from bench.scoring import citations_hold

    page = Passage("c3", "a3", "How relevant is this ad to you? Video player was slow to load content.",
                   "Nissan recalls more than 200,000 pickup trucks due to rollaway risk - CNN", "cnn.com",
                   date(2022, 9, 18), None, score=1.0)
    other = _passage(4, "Dealers said the new models sold well in the spring. Prices rose again in May.", 0.5)
    answer = ExtractiveAnswerer(embed_model).answer(
        "Which automaker recalled more than 200,000 pickup trucks?", [page, other], as_of=date(2022, 9, 22))
    assert answer.sentences[0].text == "Nissan recalls more than 200,000 pickup trucks due to rollaway risk"
    cited = answer.citations[0]
    assert cited.headline and cited.quote.startswith(page.title) and cited.quote.endswith(page.text)
    assert citations_hold(answer)


def test_headlines_lose_the_outlet_suffix_and_questions_are_not_headlines():
    from index.answer import headline

    def line(title: str, outlet: str | None) -> str:
        return headline(Passage("c", "a", "text", title, outlet, None, None))

    assert line("Donald Trump announces a White House bid for 2024 | CNN Politics", "cnn.com") == \
        "Donald Trump announces a White House bid for 2024"
    assert line("Snake named after Harrison Ford | The Week UK", "The Week") == "Snake named after Harrison Ford"
    assert line("Biden - Harris ticket gains in the polls", "cnn.com") == "Biden - Harris ticket gains in the polls"
    assert line("Does turkey make you sleepy after dinner?", "cnn.com") == ""
    assert line("", "cnn.com") == "" and line("Short title", None) == ""


def test_more_sentences_than_are_embedded_are_shortlisted_by_the_words_they_share_with_the_question(embed_model):
    filler = " ".join(f"Dealers in town number {i} reported a quiet week of sales and steady prices." for i in range(12))
    passage = _passage(1, filler + " Ford is recalling 2.9 million vehicles because they may roll away.", 1.0)
    answer = ExtractiveAnswerer(embed_model).answer("How many vehicles did Ford recall?", [passage],
                                                    as_of=date(2023, 8, 1))
    assert answer.sentences[0].text.startswith("Ford is recalling 2.9 million vehicles")



def test_a_sentence_that_repeats_one_already_chosen_is_left_out(embed_model):
    first = ("The Harbor Bridge will reopen to traffic on June 3 after eight months of repairs, the city said. "
             "Repairs cost 42 million dollars.")
    copy = ("The Harbor Bridge will reopen to traffic on June 3 after eight months of repairs, the city announced. "
            "Tolls will not change.")
    answer = ExtractiveAnswerer(embed_model).answer(
        "When will the Harbor Bridge reopen to traffic?", [_passage(1, first, 1.0), _passage(2, copy, 0.95)],
        as_of=date(2023, 8, 4))
    reopen = [s.text for s in answer.sentences if "reopen" in s.text]
    assert len(reopen) == 1  # said once, not twice in other words
