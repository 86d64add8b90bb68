"""Rule-made paraphrases: varied, deterministic, never the original."""

from services.chatbot.augment import paraphrases


def test_korean_paraphrases_vary_spacing_endings_and_words() -> None:
    text = "대회 참가 신청은 어떻게 하나요?"
    variants = paraphrases(text, 8, seed=3)
    assert len(variants) == 8 and text not in variants and len(set(variants)) == 8
    assert any(" " not in v.strip() or v.count(" ") < text.count(" ") for v in variants), "some drop spaces"
    assert variants == paraphrases(text, 8, seed=3), "the same seed gives the same paraphrases"


def test_english_paraphrases_use_synonyms() -> None:
    variants = paraphrases("How do I register my team for the tournament?", 10, seed=1)
    assert any("sign up" in v or "enroll" in v or "competition" in v or "event" in v for v in variants)
