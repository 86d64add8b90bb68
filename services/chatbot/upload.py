"""Reading an uploaded collection (JSON or CSV) into validated entries, or a clear 4xx saying what is wrong."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter

from pydantic import ValidationError

from common.errors import ProblemError
from services.chatbot.collection import declared_twins
from services.chatbot.schemas import CollectionUpload

CSV_COLUMNS = ("id", "question", "answer")
ALT_SEPARATOR = "|"


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors()[:5]:
        where = ".".join(str(p) for p in item.get("loc", ())) or "body"
        parts.append(f"{where}: {item.get('msg', 'is invalid')}")
    if error.error_count() > 5:
        parts.append(f"and {error.error_count() - 5} more")
    return "; ".join(parts)


def parse_json(body: bytes) -> CollectionUpload:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProblemError(400, f"The body is not valid JSON: {exc}.") from None
    except RecursionError:
        raise ProblemError(400, "The JSON is nested too deeply to be a FAQ collection.") from None
    try:
        return CollectionUpload.model_validate(data)
    except ValidationError as exc:
        raise ProblemError(422, f"The collection is invalid. {_describe(exc)}.") from None


def parse_csv(body: bytes) -> CollectionUpload:
    """CSV with a header row: ``id,question,answer`` and optionally ``alt_questions`` (``|``-separated),
    ``lang`` and ``translation_of``."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ProblemError(400, "The CSV is not UTF-8 text.") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise ProblemError(422, f"The CSV header must name the columns id,question,answer; missing: {', '.join(missing)}.")
    reader.fieldnames = header
    rows = []
    try:
        for row in reader:
            if None in row:
                raise ProblemError(422, f"CSV line {reader.line_num} has more fields than the header.")
            alts = [a.strip() for a in (row.get("alt_questions") or "").split(ALT_SEPARATOR) if a.strip()]
            rows.append(
                {
                    "id": (row["id"] or "").strip(),
                    "question": (row["question"] or "").strip(),
                    "answer": (row["answer"] or "").strip(),
                    "alt_questions": alts,
                    "lang": (row.get("lang") or "").strip() or None,
                    "translation_of": (row.get("translation_of") or "").strip() or None,
                }
            )
    except csv.Error as exc:
        raise ProblemError(400, f"The CSV cannot be read at line {reader.line_num}: {exc}.") from None
    try:
        return CollectionUpload.model_validate({"entries": rows})
    except ValidationError as exc:
        raise ProblemError(422, f"The collection is invalid (entries are CSV rows from 0). {_describe(exc)}.") from None


def parse_collection(body: bytes, content_type: str, max_entries: int) -> CollectionUpload:
    """A validated upload (entries, and the off-topic questions of a JSON upload); 400/415/422 with the
    reason otherwise."""
    if not body.strip():
        raise ProblemError(400, "The request body is empty; send {\"entries\": [...]} or a CSV with id,question,answer.")
    media = content_type.split(";", 1)[0].strip().lower()
    if media in ("text/csv", "application/csv"):
        upload = parse_csv(body)
    elif media in ("", "application/json") or media.endswith("+json"):
        upload = parse_json(body)
    else:
        raise ProblemError(415, f"Send the collection as application/json or text/csv, not {media}.")
    entries = upload.entries
    if len(entries) > max_entries:
        raise ProblemError(422, f"The collection has {len(entries)} entries; the limit is {max_entries}.")
    duplicates = sorted(i for i, n in Counter(e.id for e in entries).items() if n > 1)
    if duplicates:
        shown = ", ".join(duplicates[:10]) + (" ..." if len(duplicates) > 10 else "")
        raise ProblemError(422, f"Entry ids must be unique; repeated: {shown}.")
    try:
        declared_twins(entries)
    except ValueError as exc:
        raise ProblemError(422, f"The collection is invalid: {exc}.") from None
    return upload
