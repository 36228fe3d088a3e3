"""Answer shapes with an LLM configured (the real LlamaIndex client against the scripted fake on 127.0.0.1):
the same shapes, every sentence through the citation check."""

from __future__ import annotations

from datetime import date

import pytest

from bench.scoring import citations_hold
from index.answer import ExtractiveAnswerer
from index.llm_answer import LLMAnswerer, build_llm
from index.results import Passage
from index.settings import Settings
from tests.fakes.openai import FakeOpenAI, Reply

from . import story_docs as docs

AS_OF = date(2024, 9, 20)


@pytest.fixture
def llm(embed_model):
    with FakeOpenAI() as fake:
        settings = Settings(llm_base_url=fake.base_url, llm_model="fake-model", llm_timeout=5)
        yield (
            fake,
            LLMAnswerer(llm=build_llm(settings), fallback=ExtractiveAnswerer(embed_model), embed_model=embed_model),
        )


def numbered(newsroom, question: str, as_of: date) -> list[Passage]:
    """The passages the shape hands the model, in their numbered order."""
    plan = newsroom._shapes.plan(newsroom._shapes.intent(question, as_of), as_of)
    out: dict[str, Passage] = {}
    for item in plan.items:
        for p in item.passages:
            out.setdefault(p.chunk_id, p)
    return list(out.values())


def number_of(passages: list[Passage], article_id: str, needle: str) -> int:
    return next(i for i, p in enumerate(passages, 1) if p.article_id == article_id and needle in p.text)


TIMELINE = "Give me a timeline of Hurricane Delia"


def test_an_llm_timeline_is_dated_in_date_order_and_checked(newsroom, llm):
    fake, answerer = llm
    passages = numbered(newsroom, TIMELINE, AS_OF)
    schools = number_of(passages, docs.DELIA_4.id, "Schools in Port Alden")
    landfall = number_of(passages, docs.DELIA_2.id, "made landfall")
    first = number_of(passages, docs.DELIA_1.id, "Category 3")
    fake.script(  # newest first, one unsupported sentence, one cited to the wrong passage
        f"Schools in Port Alden will reopen on Monday, five days after Hurricane Delia flooded the Saltmarsh "
        f"district [{schools}]. The storm destroyed 75 bridges near Port Alden [{landfall}]. "
        f"Hurricane Delia made landfall near Port Alden early Wednesday with winds of 115 mph [{first}]. "
        f"Hurricane Delia strengthened to a Category 3 storm on Tuesday as it churned toward Port Alden [{first}]."
    )
    answer = newsroom.ask(TIMELINE, as_of=AS_OF, answerer=answerer)
    assert answer.answerer == "llm:fake-model" and answer.shape == "timeline"
    days = [s.day for s in answer.sentences]
    assert days == sorted(days) and days[0] == date(2024, 9, 10) and days[-1] == date(2024, 9, 14)
    assert not any("75 bridges" in s.text for s in answer.sentences)  # unsupported: dropped by the check
    assert any("1 dropped" in n and "1 re-cited" in n for n in answer.notes)
    landed = next(s for s in answer.sentences if "made landfall" in s.text)
    assert landed.day == date(2024, 9, 11)  # re-cited to the landfall report, and dated by it
    assert all(s.label for s in answer.sentences) and answer.heading.startswith("Timeline:")
    user = fake.requests[0]["body"]["messages"][1]["content"]
    assert "Write a timeline" in user and 'date="2024-09-10"' in user


def test_an_llm_latest_answer_leads_with_the_newest_report(newsroom, llm):
    fake, answerer = llm
    question = "What is the latest on Hurricane Delia?"
    passages = numbered(newsroom, question, AS_OF)
    toll = number_of(passages, docs.DELIA_3.id, "27 people")
    schools = number_of(passages, docs.DELIA_4.id, "Schools in Port Alden")
    fake.script(
        f"Officials now count 27 people killed in Port Alden [{toll}]. Schools in Port Alden will reopen "
        f"on Monday, Governor Mara Quint said [{schools}]."
    )
    answer = newsroom.ask(question, as_of=AS_OF, answerer=answerer)
    assert answer.answerer == "llm:fake-model" and answer.shape == "latest"
    assert answer.sentences[0].day == date(2024, 9, 14) and answer.heading.startswith("As of 2024-09-14")
    assert [s.day for s in answer.sentences] == sorted((s.day for s in answer.sentences), reverse=True)


def test_an_llm_digest_keeps_one_line_per_story_with_its_coverage(newsroom, llm):
    fake, answerer = llm
    question = "What happened today?"
    day = date(2024, 9, 12)
    passages = numbered(newsroom, question, day)
    lions = number_of(passages, docs.LIONS.id, "Harbor Lions")
    varga = number_of(passages, docs.VARGA_2.id, "resigned")
    fake.script(
        f"The Harbor Lions won the national basketball championship in overtime [{lions}]. Ilse Varga "
        f"resigned as prime minister of Norland after losing a confidence vote [{varga}]."
    )
    answer = newsroom.ask(question, as_of=day, answerer=answerer)
    assert answer.shape == "digest" and [s.label for s in answer.sentences] == ["1 outlet, 1 report"] * 2
    assert {c.passage.article_id for c in answer.citations} == {docs.LIONS.id, docs.VARGA_2.id}


def test_when_the_model_fails_the_shape_is_written_extractively(newsroom, llm):
    fake, answerer = llm
    fake.script(Reply(status=500, content="overloaded"))
    answer = newsroom.ask(TIMELINE, as_of=AS_OF, answerer=answerer)
    assert answer.shape == "timeline" and answer.answerer == "extractive"
    assert any("LLM answer not used" in n for n in answer.notes)
    days = [s.day for s in answer.sentences]
    assert days and days == sorted(days) and citations_hold(answer)
