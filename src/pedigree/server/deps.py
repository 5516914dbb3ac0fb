"""FastAPI dependencies: the ledger, the caller (bearer token), role and namespace checks."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from pedigree.server import tokens
from pedigree.server.auth import Permission, Principal, roles_with
from pedigree.store import Ledger

_bearer = HTTPBearer(
    auto_error=False,
    description="A token from `pedigree tokens create`: `Authorization: Bearer pdg_…`.",
)


async def get_ledger(request: Request) -> Ledger:
    """(async: trivial dependencies stay on the event loop, no thread hop per request)"""
    return request.app.state.ledger  # type: ignore[no-any-return]


LedgerDep = Annotated[Ledger, Depends(get_ledger)]


def unauthorized(message: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=message, headers={"WWW-Authenticate": "Bearer"}
    )


def forbidden(message: str) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, detail=message)


async def authenticated(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, from ``Authorization: Bearer …``; 401 naming what is wrong.

    (async: a token accepted within the last second is answered from memory on the event
    loop; only the others cost a worker thread and a database read)
    """
    if credentials is None:
        raise unauthorized("missing bearer token (send `Authorization: Bearer pdg_…`)")
    authenticator: tokens.Authenticator = request.app.state.authenticator
    principal = authenticator.remembered(credentials.credentials)
    if principal is None:
        try:
            principal = await run_in_threadpool(authenticator.authenticate, credentials.credentials)
        except tokens.Rejected as exc:
            raise unauthorized(str(exc)) from None
    request.state.principal = principal  # for the access log
    return principal


PrincipalDep = Annotated[Principal, Depends(authenticated)]


def require(permission: Permission) -> Any:
    """A dependency giving the caller when its role holds ``permission``, else 403."""

    async def check(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        # (``authenticated`` called here, not as a dependency of its own: FastAPI's
        # resolving of each nested dependency costs more than the check itself)
        principal = await authenticated(request, credentials)
        if not principal.can(permission):
            raise forbidden(
                f"role {principal.role.value} may not {permission.value} "
                f"(needs {roles_with(permission)})"
            )
        return principal

    return Depends(check)


def check_namespace(principal: Principal, namespace: str | None, what: str) -> None:
    """403 unless ``namespace`` is within the token's grant."""
    if not principal.sees(namespace):
        raise forbidden(
            f"{what} is in namespace {namespace!r}, outside this token's namespaces "
            f"({', '.join(sorted(principal.namespaces))})"
        )


def note(request: Request, node: str | None) -> None:
    """Name the node a request is about, for the access log."""
    if node:
        request.state.access_node = node


async def no_unknown_query_parameters(request: Request) -> None:
    """400 for a query parameter the route does not take (a typo is never ignored)."""
    if not request.scope.get("query_string"):
        return  # (none given: most requests, ingest above all)
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    known: set[str] = set()
    stack = [dependant]
    while stack:
        item = stack.pop()
        known.update(p.alias for p in item.query_params)
        stack.extend(item.dependencies)
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            detail=f"unknown query parameter(s): {', '.join(unknown)}"
            + (f" (this endpoint takes {', '.join(sorted(known))})" if known else ""),
        )
