"""A single e5 query may run on two OpenMP threads (when the cores are free): the vectors must not change."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from common.encoders import E5Encoder, _cores_free

TEXTS = ["대회 참가 신청은 어떻게 하나요?", "How do I register my team for the tournament?", "상금은 언제 지급되나요?"]


def test_a_query_embeds_the_same_on_one_thread_or_two_from_any_caller() -> None:
    one = E5Encoder(query_threads=1)
    two = E5Encoder(query_threads=2)
    batch = one.encode(TEXTS)  # a batch always runs on one thread
    with ThreadPoolExecutor(3) as callers:  # request threads of a service
        singles = list(callers.map(lambda t: two.encode([t])[0], TEXTS))
    np.testing.assert_allclose(np.stack(singles), batch, atol=1e-5)
    np.testing.assert_allclose(one.encode([TEXTS[0]])[0], batch[0], atol=1e-5)


def test_the_core_check_reads_the_machine() -> None:
    assert _cores_free(1, siblings=10**6), "one thread always fits"
    assert not _cores_free(10**6), "more threads than cores never do"
