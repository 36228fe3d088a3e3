"""The one text pipeline: sentence boundaries, terms, truncation."""

from __future__ import annotations

import pytest

from index.text import clip, sentence_spans, split_sentences, term_set, terms


# sentences ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "Ford Motor Co. is recalling 2.9 million vehicles.",  # a company, a decimal
        "Crews reached the U.S. border at 2 a.m. on Monday.",  # initialisms before lower case
        "He cited a Dec. 19 tweet from the president.",  # a month's abbreviation before a day
        "J. K. Rowling wrote the first book in a cafe.",  # initials
        "Gov. Kathy Hochul signed the bill.",  # a title at the start
        "Climbers reached Mt. Everest on Friday.",  # an abbreviation Punkt's English parameters lack
        "The vote is on Mar. 3 in Ohio.",  # a month Punkt's English parameters lack
        "“Mt. Everest is taller,” she said.",  # an abbreviation just after an opening quotation mark
        "He ranks No. 11 in a class of 647.",  # "No." before a number
        "Polls close at 8 p.m. ET in most states.",  # a time zone after p.m.
        "Dressed in red, Rep. Troy Nehls spoke.",  # a title before a name Punkt has seen in lower case
        '"Happy birthday, Mr. President," she wrote.',
        '"Do you want me dead?" he asked in a later text.',  # a question's attribution
        "Who knows why... but the internet loves it.",  # an ellipsis before lower case
        "WASHINGTON (CNN) — The Senate passed the bill on a 68-31 vote.",  # a dateline
    ],
)
def test_one_sentence(text: str) -> None:
    assert split_sentences(text) == [text]


@pytest.mark.parametrize(
    "text, sentences",
    [
        ("The fire started at 2 a.m. The roof fell in.", ["The fire started at 2 a.m.", "The roof fell in."]),
        ("“Stop.” He left the room.", ["“Stop.”", "He left the room."]),
        ("“Are you sure?” The clerk nodded.", ["“Are you sure?”", "The clerk nodded."]),
        ("Nobody is in danger… So be thankful.", ["Nobody is in danger…", "So be thankful."]),
        ("The answer was no. Then he left.", ["The answer was no.", "Then he left."]),
        ("Was it over? No. The fight went on.", ["Was it over?", "No.", "The fight went on."]),
        (
            "3. Coronavirus\nMillions are behind on vaccinations. Experts worry.",
            ["3. Coronavirus", "Millions are behind on vaccinations.", "Experts worry."],
        ),
    ],
)
def test_sentence_ends(text: str, sentences: list[str]) -> None:
    assert split_sentences(text) == sentences


def test_a_line_break_always_ends_a_sentence() -> None:
    text = "Officials met the U.S.\nofficials said nothing. He cited a Dec.\n19 tweet."
    assert split_sentences(text) == [
        "Officials met the U.S.",
        "officials said nothing.",
        "He cited a Dec.",
        "19 tweet.",
    ]


def test_spans_cover_the_text_in_order_without_white_space() -> None:
    text = (
        "  Kyiv was hit overnight.  Kharkiv too, officials said.\r\n\n\t1. Power is out in Zaporizhzhia. "
        "Repairs began at 6 a.m. Monday… Crews are there.\n   \n"
    )
    spans = sentence_spans(text)
    assert [text[s:e] for s, e in spans] == [
        "Kyiv was hit overnight.",
        "Kharkiv too, officials said.",
        "1. Power is out in Zaporizhzhia.",
        "Repairs began at 6 a.m. Monday…",
        "Crews are there.",
    ]
    assert all(0 <= s < e <= len(text) for s, e in spans)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))
    covered = {i for s, e in spans for i in range(s, e)}
    assert all(ch.isspace() for i, ch in enumerate(text) if i not in covered)


def test_no_sentences_in_blank_text() -> None:
    assert sentence_spans("") == () and sentence_spans(" \n\n ") == ()


# terms --------------------------------------------------------------------------------------------------------------
def test_terms_are_lower_case_stemmed_content_words_in_order() -> None:
    assert terms("The officials said this week that Recalls were recalled") == ["offici", "recal", "recal"]


def test_terms_drop_possessives_and_straighten_apostrophes() -> None:
    assert terms("Biden’s plan") == terms("Biden's plan") == terms("Biden plan") == ["biden", "plan"]


def test_terms_join_initialisms_and_split_at_hyphens() -> None:
    assert terms("U.S. Covid-19 cases") == ["us", "covid", "19", "case"]


def test_terms_keep_numbers_whole_and_number_words_only_when_asked() -> None:
    assert terms("1,000 people and 2.9 million cars, three times, 5 days, a Z") == [
        "1000",
        "peopl",
        "2.9",
        "million",
        "car",
        "three",
        "time",
        "5",
        "day",
    ]
    assert terms("three times", number_words=True) == ["3", "time"]


def test_term_set_is_the_distinct_terms() -> None:
    assert term_set("Recalls, recalled, RECALL!") == {"recal"}


# clip ---------------------------------------------------------------------------------------------------------------
SENTENCES = "Crews reached the U.S. border at 2 a.m. on Monday. Then they left the area and went home."


def test_clip_leaves_short_text_alone() -> None:
    assert clip(SENTENCES, len(SENTENCES)) == SENTENCES


def test_clip_cuts_at_a_sentence_end() -> None:
    assert clip(SENTENCES, 70) == "Crews reached the U.S. border at 2 a.m. on Monday. …"
    assert clip(SENTENCES, 70, " …") == "Crews reached the U.S. border at 2 a.m. on Monday. …"


def test_clip_cuts_at_a_word_when_no_sentence_ends_in_the_second_half() -> None:
    assert clip(SENTENCES, 36) == "Crews reached the U.S. border at 2…"  # "U.S." does not end a sentence
    assert clip(SENTENCES, 27) == "Crews reached the U.S.…"
    assert clip(SENTENCES, 36, " …") == "Crews reached the U.S. border at 2 …"
    assert clip(SENTENCES, 35, " …") == "Crews reached the U.S. border at …"


def test_clip_cuts_mid_word_without_spaces() -> None:
    assert clip("abcdefghijklmnop", 8) == "abcdefg…"


@pytest.mark.parametrize("limit", [1, 2, 10, 23, 24, 51, 52, 53, 60, 85])
def test_clip_never_exceeds_the_limit(limit: int) -> None:
    for ellipsis in ("…", " …", "..."):
        assert len(clip(SENTENCES, limit, ellipsis)) <= max(limit, len(ellipsis))
