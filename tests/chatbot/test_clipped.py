"""Korean clipped words: a question that says 비번 or 스샷 finds the entry that says 비밀번호 or 스크린샷, and
everyday words are left alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.chatbot.clipped import ClippedWords, clipped_forms
from services.chatbot.collection import FaqCollection
from services.chatbot.config import ChatbotSettings
from services.chatbot.engines.kiwi_analyzer import KiwiAnalyzer, Lexicon
from services.chatbot.schemas import FaqEntry
from services.chatbot.startup import collection_builder, load_engines

ENTRIES = [
    FaqEntry(id="password", question="비밀번호를 잊어버렸어요", alt_questions=["로그인이 안 돼요"],
             answer="로그인 화면의 '비밀번호 찾기'를 누르면 가입한 이메일로 재설정 링크가 옵니다."),
    FaqEntry(id="disconnect", question="경기 중에 접속이 끊기면 어떻게 하나요?", alt_questions=["게임 도중 튕겼어요"],
             answer="3분 안에 다시 접속하면 경기가 이어집니다. 그 뒤에는 남은 인원으로 진행합니다."),
    FaqEntry(id="screenshot", question="경기 결과 스크린샷은 어디에 올리나요?", alt_questions=["결과 사진은 어디로 보내요?"],
             answer="이긴 팀 주장이 디스코드 결과 채널에 결과 화면 스크린샷을 올립니다."),
    FaqEntry(id="bracket", question="대진표는 언제 나오나요?", alt_questions=["첫 상대는 언제 알 수 있어요?"],
             answer="대진표는 체크인 마감 30분 뒤 홈페이지에 공개됩니다."),
    FaqEntry(id="refund", question="참가비 환불되나요?", alt_questions=["취소하면 돈 돌려받나요?"],
             answer="대회 3일 전까지 취소하면 참가비 전액을 환불합니다."),
    FaqEntry(id="prize", question="상금은 얼마인가요?", alt_questions=["우승하면 뭐 받아요?"],
             answer="우승 50만 원, 준우승 20만 원이며 대회 후 2주 안에 계좌로 보냅니다."),
    FaqEntry(id="team-size", question="한 팀은 몇 명인가요?", alt_questions=["후보 선수도 등록할 수 있어요?"],
             answer="선수 5명에 후보 1명까지 등록할 수 있습니다."),
    FaqEntry(id="site-down", question="홈페이지 접속이 안 될 때는 어떻게 하나요?", alt_questions=["사이트가 안 열려요"],
             answer="점검 중일 수 있습니다. 디스코드 공지 채널에서 점검 시간을 확인해 주세요."),
    FaqEntry(id="highlights", question="경기 하이라이트 영상은 어디에 올라오나요?", alt_questions=["다시보기 어디서 봐요?"],
             answer="하이라이트와 다시보기는 경기 다음 날 유튜브 채널에 올라옵니다."),
    FaqEntry(id="next-match", question="이긴 팀은 다음 경기를 언제 하나요?", alt_questions=["다음 라운드는 언제예요?"],
             answer="다음 라운드는 대진표에 적힌 시간에 시작합니다."),
    FaqEntry(id="schedule", question="경기는 몇 시에 시작하나요?", alt_questions=["대회 일정 알려주세요"],
             answer="예선은 토요일 오후 1시, 결승은 일요일 오후 3시에 시작합니다."),
]


@pytest.fixture(scope="module")
def analyzer() -> KiwiAnalyzer:
    return KiwiAnalyzer()


def test_a_clipped_word_is_spelled_out_and_an_everyday_word_is_not(analyzer: KiwiAnalyzer) -> None:
    assert {"비번", "비밀"} <= clipped_forms(("비밀", "번호")) and "스샷" in clipped_forms(("스크린샷",))
    lexicon = Lexicon()
    analyzer.terms_many(["비밀번호를 잊어버렸어요", "결과 스크린샷을 올려요", "대진표는 언제 나와요?", "디스코드에 스샷"], lexicon)
    clipped = ClippedWords.of_collection(lexicon.forms, lexicon.nouns, analyzer)
    assert clipped.full["비번"] == "비밀번호" and clipped.full["디코"] == "디스코드"
    assert "대표" not in clipped.full, "대표 clips 대진표 but is an everyday word"
    assert "스샷" not in clipped.full, "the collection itself says 스샷"

    def spelled(text: str) -> str:
        return clipped.spell_out(text, analyzer.query(text)[1])

    assert spelled("비번 까먹어서 디코 접속을 못 해요") == "비밀번호 까먹어서 디스코드 접속을 못 해요"
    assert spelled("팀 대표가 신청하나요?") == "팀 대표가 신청하나요?"


@pytest.fixture(scope="module")
def tournament() -> FaqCollection:
    settings = ChatbotSettings().model_copy(update={"finetune_steps": 0, "starspace_max_epochs": 15})
    return collection_builder(settings, load_engines(settings))("tournament", ENTRIES)


QUESTIONS = {
    "비번 까먹어서 접속을 못 하겠어요": "password",
    "이긴 팀이 스샷 어디에 올려요?": "screenshot",
}


def test_a_question_with_a_clipped_word_gets_the_entry_that_spells_it_out(
    tournament: FaqCollection, tmp_path: Path
) -> None:
    assert tournament.clipped.full.get("비번") == "비밀번호"
    tournament.save(tmp_path)
    reloaded = FaqCollection.load(tmp_path, tournament.engines)
    assert reloaded is not None and reloaded.clipped.full == tournament.clipped.full
    for served in (tournament, reloaded):
        for question, want in QUESTIONS.items():
            answer = served.ask(question)
            assert answer.candidates[0].id == want and not answer.abstained, question
            # Read as typed, BM25, StarSpace and USE put the entry about 접속 (or 이긴 팀) first.
            firsts = {name: served.entries[int(h.entries[0])].id for name, h in served.hits(question).items()}
            assert set(firsts.values()) == {want}, (question, firsts)
