"""Which service serves a public path, and how long the gateway waits for it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Route:
    prefix: str
    service: str
    timeout: float  # seconds until the backend's response headers arrive


# Longest prefix wins; the timeouts suit each route's work (speech and OCR take seconds, FAQ milliseconds).
DEFAULT_ROUTES: tuple[Route, ...] = (
    Route("/v1/faq", "chatbot", 15.0),
    Route("/v1/ocr", "ocr", 60.0),
    Route("/v1/matches", "ocr", 15.0),
    Route("/v1/sql", "seq2sql", 30.0),
    Route("/v1/audio/transcriptions", "tts", 300.0),
    Route("/v1/audio", "tts", 120.0),
    Route("/v1/conversation", "tts", 120.0),
)

SERVICE_TITLES = {
    "chatbot": "FAQ chatbot",
    "ocr": "match-result OCR",
    "seq2sql": "text-to-SQL",
    "tts": "speech",
}


class RouteTable:
    """Maps a request path to its route, with per-prefix timeout overrides from settings."""

    def __init__(self, routes: tuple[Route, ...] = DEFAULT_ROUTES, overrides: dict[str, float] | None = None):
        overrides = overrides or {}
        self.routes = sorted(
            (Route(r.prefix, r.service, overrides.get(r.prefix, r.timeout)) for r in routes),
            key=lambda r: len(r.prefix),
            reverse=True,
        )

    def match(self, path: str) -> Route | None:
        for route in self.routes:
            if path == route.prefix or path.startswith(route.prefix + "/"):
                return route
        return None
