"""A small, bounded schemathesis run against the running product (the full one is `make fuzz`), and one
regression test for each failure the fuzzer found (docs/reliability.md, "Fuzzing")."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest

from reliability import fuzz
from reliability.stack import Stack


def test_a_small_fuzz_run_finds_no_5xx_no_answer_off_schema_and_no_hang(stack: Stack) -> None:
    report = fuzz.fuzz(stack.url, key=None, examples=3, seed=8)
    assert report.requests >= 80
    failures = [
        f"{f.operation} -> {f.status}: {f.message}\n  {f.curl}"
        for f in report.unique_failures()
        if not f.known  # open bugs listed in reliability.fuzz.KNOWN_FAILURES (each with a strict xfail test)
    ]
    assert not failures, "\n\n".join(failures)  # a 5xx is a failure too (schemathesis' not_a_server_error)


# --- regressions -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("escaped", "collection"),
    [("%C3%89t%C3%A9", "Été"), ("a%20b", "a b"), ("a%3Fb", "a?b"), ("a%23b", "a#b"), ("%ED%8C%80", "팀")],
)
def test_escaped_path_reaches_the_service_as_the_client_sent_it(stack: Stack, escaped: str, collection: str) -> None:
    """Found by schemathesis: the gateway forwarded the decoded path, so a space or a non-ASCII letter made
    a request line the service rejected (a text/plain 400), %3F became a query and %23 a fragment."""
    response = httpx.post(f"{stack.url}/v1/faq/collections/{escaped}/ask", json={"question": "x"}, timeout=30)
    assert response.headers["content-type"] == "application/problem+json", response.text
    # The service saw the whole name (not 'a' with the rest cut off) and refused it as a name.
    assert response.status_code in (404, 422), response.text
    if response.status_code == 404:
        assert collection in response.json()["detail"]


def test_a_json_body_that_is_not_utf8_is_a_documented_400(stack: Stack) -> None:
    """Found by schemathesis: such bodies got a 400 that no operation of /openapi.json declared."""
    document = httpx.get(stack.url + "/openapi.json", timeout=30).json()
    for path, method in [("/v1/conversation/sessions", "post"), ("/v1/faq/collections/{collection}/ask", "post"),
                         ("/v1/sql/ask", "post"), ("/v1/audio/speech", "post"), ("/v1/ocr/text", "post")]:
        assert "400" in document["paths"][path][method]["responses"], (method, path)
    response = httpx.post(stack.url + "/v1/conversation/sessions", content=b"v\xff",
                          headers={"Content-Type": "application/json"}, timeout=30)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


def test_saved_match_times_carry_their_offset(stack: Stack) -> None:
    """Found by schemathesis: `played_at` like "2026-11-04T21:00:00" breaks the declared date-time format."""
    items = httpx.get(stack.url + "/v1/matches", params={"limit": 5}, timeout=30).json()["items"]
    assert items
    for item in items:
        assert datetime.fromisoformat(item["played_at"]).tzinfo is not None, item["played_at"]


def test_registering_a_path_under_an_unknown_home_is_refused(stack: Stack) -> None:
    """Found by schemathesis: a url like "~nobody-here/x.db" made Path.expanduser raise, a 500; it is a path
    outside the folders the operator allows, so a 403."""
    response = httpx.post(stack.url + "/v1/sql/databases", json={"name": "p", "url": "~nobody-here-8/x.db"}, timeout=30)
    assert response.status_code == 403, response.text
    assert "folders the operator allows" in response.json()["detail"]


def test_a_huge_matches_offset_is_a_422(stack: Stack) -> None:
    """Found by schemathesis: GET /v1/matches?offset=85488247082612740187230341991957004288 answered 500."""
    response = httpx.get(stack.url + "/v1/matches", params={"limit": 16, "offset": 10**38}, timeout=30)
    assert response.status_code == 422, response.text
