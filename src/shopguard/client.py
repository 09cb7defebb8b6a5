"""The Python SDK: call a ShopGuard server from a checkout, sign-up or cabinet back end.

    from shopguard.client import ShopGuard
    guard = ShopGuard("http://shopguard:8080", api_key, fallback="challenge")
    decision = guard.decide(event)          # a shopguard.decision.Decision

Timeouts are short (a risk check must not stall a checkout); a decision is idempotent by
``event_id``, so transport failures, 5xx and 503 overload are retried with backoff. When
ShopGuard stays unreachable, ``decide`` answers the configured fallback (``allow``: fail
open, ``deny``: fail closed, ``challenge``: step up) with the reason code
``SHOPGUARD_UNREACHABLE``. A 4xx is the caller's mistake: it raises ``ProblemError`` and
never falls back. ``AsyncShopGuard`` is the same over ``httpx.AsyncClient``.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Literal

import httpx
import msgspec

from shopguard.decision import Decision, Reason
from shopguard.labels import Label, MerchantHealth

Fallback = Literal["allow", "deny", "challenge"]
RETRIED = frozenset({500, 502, 503, 504})
_encode = msgspec.json.Encoder().encode


class ProblemError(Exception):
    """The server refused the request (RFC 9457 problem): ``status``, ``field``, ``detail``."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status, self.problem = status, problem
        self.field: str | None = problem.get("field")
        self.detail: str = problem.get("detail", "")
        where = f" at {self.field}" if self.field else ""
        super().__init__(f"{status} {problem.get('title', '')}: {self.detail}{where}")


class Unavailable(Exception):
    """ShopGuard could not be reached (after retries) for a call that has no fallback."""


class _Core:
    def __init__(
        self,
        url: str,
        api_key: str,
        timeout: float,
        retries: int,
        backoff: float,
        fallback: Fallback | None,
    ) -> None:
        self.base = url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
        self.timeout, self.retries, self.backoff, self.fallback = (
            timeout,
            retries,
            backoff,
            fallback,
        )

    def delays(self) -> list[float]:
        return [self.backoff * 2**i for i in range(self.retries)]

    @staticmethod
    def retry(response: httpx.Response | None) -> bool:
        return response is None or response.status_code in RETRIED

    def settle(
        self, attempt: httpx.Response | httpx.TransportError, last: bool
    ) -> httpx.Response | str:
        """The response to hand back, or why this attempt failed (to retry, unless last)."""
        if isinstance(attempt, httpx.TransportError):
            return f"{type(attempt).__name__}: {attempt}"
        if last or not self.retry(attempt):
            return attempt
        return f"HTTP {attempt.status_code}"

    def decided(self, event: dict[str, Any], result: httpx.Response | Unavailable) -> Decision:
        """The decision of a call to /v1/decisions, or the fallback when there is none."""
        if isinstance(result, Unavailable):
            return self.fallback_for(event, str(result))
        if self.retry(result) and self.fallback is not None:
            return self.fallback_for(event, f"HTTP {result.status_code}")
        decision: Decision = self.parse(result, Decision)
        return decision

    @staticmethod
    def parse(response: httpx.Response, kind: Any) -> Any:
        if response.status_code >= 400:
            try:
                problem = response.json()
            except ValueError:
                problem = {"detail": response.text[:200]}
            raise ProblemError(response.status_code, problem)
        return msgspec.json.decode(response.content, type=kind)

    def fallback_for(self, event: dict[str, Any], error: str) -> Decision:
        if self.fallback is None:
            raise Unavailable(error)
        reason = Reason(
            "sdk",
            "SHOPGUARD_UNREACHABLE",
            self.fallback,
            0.0,
            f"ShopGuard unreachable ({error}): fallback {self.fallback}",
        )
        return Decision(
            str(event.get("event_id", "")),
            str(event.get("tenant", "")),
            str(event.get("type", "")),
            time.time(),
            self.fallback,
            0.0,
            [reason],
            "",
            "",
            0,
            challenge="captcha" if self.fallback == "challenge" else None,
            trace=[error],
        )


class ShopGuard:
    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        timeout: float = 0.25,
        retries: int = 2,
        backoff: float = 0.05,
        fallback: Fallback | None = "allow",
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._core = _Core(url, api_key, timeout, retries, backoff, fallback)
        self._http = httpx.Client(timeout=timeout, transport=transport, headers=self._core.headers)

    def _call(self, method: str, path: str, body: Any = None) -> httpx.Response:
        core, content = self._core, None if body is None else _encode(body)
        error = ""
        for delay in [*core.delays(), None]:
            attempt: httpx.Response | httpx.TransportError
            try:
                attempt = self._http.request(method, core.base + path, content=content)
            except httpx.TransportError as exc:
                attempt = exc
            settled = core.settle(attempt, delay is None)
            if isinstance(settled, httpx.Response):
                return settled
            error = settled
            if delay is not None:
                time.sleep(delay)
        raise Unavailable(error)

    def decide(self, event: dict[str, Any]) -> Decision:
        result: httpx.Response | Unavailable
        try:
            result = self._call("POST", "/v1/decisions", event)
        except Unavailable as exc:
            result = exc
        return self._core.decided(event, result)

    def decide_batch(self, events: list[dict[str, Any]]) -> list[Decision]:
        response = self._call("POST", "/v1/decisions:batch", events)
        return list(self._core.parse(response, dict[str, list[Decision]])["decisions"])

    def decision(self, event_id: str) -> Decision | None:
        response = self._call("GET", f"/v1/decisions/{event_id}")
        return None if response.status_code == 404 else self._core.parse(response, Decision)

    def label(self, **fields: Any) -> Label:
        result: Label = self._core.parse(self._call("POST", "/v1/labels", fields), Label)
        return result

    def merchant_health(self, merchant: str) -> MerchantHealth:
        response = self._call("GET", f"/v1/merchants/{merchant}/health")
        result: MerchantHealth = self._core.parse(response, MerchantHealth)
        return result

    def close(self) -> None:
        self._http.close()


class AsyncShopGuard:
    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        timeout: float = 0.25,
        retries: int = 2,
        backoff: float = 0.05,
        fallback: Fallback | None = "allow",
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._core = _Core(url, api_key, timeout, retries, backoff, fallback)
        self._http = httpx.AsyncClient(
            timeout=timeout, transport=transport, headers=self._core.headers
        )

    async def _call(self, method: str, path: str, body: Any = None) -> httpx.Response:
        core, content = self._core, None if body is None else _encode(body)
        error = ""
        for delay in [*core.delays(), None]:
            attempt: httpx.Response | httpx.TransportError
            try:
                attempt = await self._http.request(method, core.base + path, content=content)
            except httpx.TransportError as exc:
                attempt = exc
            settled = core.settle(attempt, delay is None)
            if isinstance(settled, httpx.Response):
                return settled
            error = settled
            if delay is not None:
                await asyncio.sleep(delay)
        raise Unavailable(error)

    async def decide(self, event: dict[str, Any]) -> Decision:
        result: httpx.Response | Unavailable
        try:
            result = await self._call("POST", "/v1/decisions", event)
        except Unavailable as exc:
            result = exc
        return self._core.decided(event, result)

    async def label(self, **fields: Any) -> Label:
        response = await self._call("POST", "/v1/labels", fields)
        result: Label = self._core.parse(response, Label)
        return result

    async def aclose(self) -> None:
        await self._http.aclose()
