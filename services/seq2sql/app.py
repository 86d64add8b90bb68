"""Korean text-to-SQL assistant routes (not built yet: every route answers 501 until issue #5 lands)."""

from __future__ import annotations

from fastapi import APIRouter

from common.errors import ProblemError, problem_responses
from common.health import Readiness
from common.service import create_service_app

readiness = Readiness("engine")
readiness.set("engine", "ready")
router = APIRouter(responses=problem_responses(501))
_NOT_BUILT = "The Korean text-to-SQL assistant is not built yet (issue #5)."


@router.post("/v1/sql/ask", include_in_schema=False)
async def post_v1_sql_ask() -> None:
    raise ProblemError(501, _NOT_BUILT)


@router.post("/v1/sql/databases", include_in_schema=False)
async def post_v1_sql_databases() -> None:
    raise ProblemError(501, _NOT_BUILT)


@router.get("/v1/sql/databases", include_in_schema=False)
async def get_v1_sql_databases() -> None:
    raise ProblemError(501, _NOT_BUILT)


@router.get("/v1/sql/databases/{name}", include_in_schema=False)
async def get_v1_sql_databases_name() -> None:
    raise ProblemError(501, _NOT_BUILT)


app = create_service_app(name="seq2sql", title="Malgeul Korean text-to-SQL assistant", description="Korean text-to-SQL assistant.", readiness=readiness, routers=[router])
