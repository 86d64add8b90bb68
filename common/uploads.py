"""Reading uploaded files with a size limit, so no upload is held whole past the limit."""

from __future__ import annotations

from fastapi import UploadFile

from common.errors import ProblemError

_CHUNK = 1024 * 1024


async def read_upload(upload: UploadFile, limit: int, what: str = "file") -> bytes:
    """Return the upload's bytes; 413 past ``limit``, 400 when it is empty."""
    chunks: list[bytes] = []
    size = 0
    while chunk := await upload.read(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise ProblemError(413, f"The {what} is larger than the limit of {limit // (1024 * 1024)} MB.")
        chunks.append(chunk)
    if size == 0:
        raise ProblemError(400, f"The {what} is empty.")
    return b"".join(chunks)
