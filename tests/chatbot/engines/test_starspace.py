"""The StarSpace-style model learns a collection's words, spacing and typos from the collection alone."""

from services.chatbot.engines import Query
from services.chatbot.engines.starspace import StarSpaceConfig, StarSpaceSignal, features


def _terms(text: str) -> list[str]:
    return text.lower().replace("?", "").split()


def test_trained_model_finds_entries_from_unspaced_and_misspelled_questions() -> None:
    texts = {
        0: ["환불 받을 수 있나요", "남은 시간 환불"],
        1: ["주차장 있어요", "차 가지고 가도 돼요"],
        2: ["와이파이 비밀번호", "인터넷 되나요"],
    }
    examples = [(features(t, _terms(t)), e) for e, ts in texts.items() for t in ts]
    model = StarSpaceSignal.train(examples, 3, StarSpaceConfig(dim=32, max_epochs=60, max_seconds=20))
    for question, want in [("환불받을수있나요", 0), ("주차장있어요?", 1), ("와이파이 비빌번호", 2)]:
        hits = model.search(Query(question, _terms(question)), 3)
        assert int(hits.entries[0]) == want, question
    assert model.search(Query("zzz", []), 3).entries.size == 0, "nothing seen in training: no evidence"
