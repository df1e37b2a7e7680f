"""Talking to the flopwise service over HTTP (the trainer never imports ``service``).

The endpoints the trainer uses:

* ``POST /v1/runs``      ``{"runs": [record, ...]}``; idempotent on (dataset, run, tokens);
* ``POST /v1/fits``      ``{"dataset", "form", "method", "options"}`` -> 202 ``{"job_id", "status"}``;
* ``GET  /v1/jobs/{id}`` ``{"status": queued|running|succeeded|failed, "result", "error"}``;
* ``GET  /v1/laws/{id}`` the law, with its constants;
* ``POST /v1/allocate``  ``{"flops", "law": "id@version"}``.

Write requests carry ``Authorization: Bearer <key>`` when a key is given. Connection
errors and 5xx answers are retried with backoff; a 4xx is the caller's mistake and is
raised at once as :class:`ServiceError` with the service's message.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

__all__ = ["ServiceClient", "ServiceError"]


class ServiceError(RuntimeError):
    """The service refused a request or could not be reached."""


@dataclass
class ServiceClient:
    """A small synchronous client; ``transport`` lets tests use ``httpx.MockTransport``."""

    url: str
    api_key: str | None = None
    timeout: float = 30.0
    retries: int = 5
    backoff: float = 0.5
    """First wait between retries in seconds (doubling, at most 8)."""
    transport: httpx.BaseTransport | None = None

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise ValueError(f"service_url must start with http:// or https://, got {self.url!r}")
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        self._http = httpx.Client(
            base_url=self.url.rstrip("/"),
            headers=headers,
            timeout=self.timeout,
            transport=self.transport,
        )

    def close(self) -> None:
        self._http.close()

    def _request(self, method: str, path: str, body: Any = None) -> Any:
        delay = self.backoff
        for attempt in range(self.retries + 1):
            try:
                response = self._http.request(method, path, json=body)
            except httpx.TransportError as exc:
                problem = f"{method} {path}: {exc.__class__.__name__}: {exc}"
            else:
                if response.status_code < 400:
                    return response.json() if response.content else None
                problem = f"{method} {path}: HTTP {response.status_code}: {_detail(response)}"
                if response.status_code < 500:
                    raise ServiceError(problem)
            if attempt == self.retries:
                raise ServiceError(problem)
            time.sleep(delay)
            delay = min(delay * 2, 8.0)
        raise AssertionError("unreachable")

    def post_runs(self, records: list[dict[str, Any]], refit: bool = True) -> Any:
        """Ingest observation records; ``refit=False`` queues no refit (a sweep asks
        for its own fit when it ends)."""
        return self._request("POST", "/v1/runs", {"runs": records, "refit": refit})

    def request_fit(
        self,
        dataset: str,
        form: str = "chinchilla",
        method: str = "approach3",
        options: dict[str, Any] | None = None,
    ) -> str:
        """Queue a refit of ``dataset``; returns the job id."""
        body = {"dataset": dataset, "form": form, "method": method, "options": options or {}}
        answer = self._request("POST", "/v1/fits", body)
        return str(answer["job_id"])

    def job(self, job_id: str) -> dict[str, Any]:
        """One job's state."""
        return dict(self._request("GET", f"/v1/jobs/{job_id}"))

    def wait_job(self, job_id: str, timeout: float = 600.0, poll: float = 0.5) -> dict[str, Any]:
        """Poll until the job succeeded or failed; ``ServiceError`` after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.job(job_id)
            if state.get("status") in ("succeeded", "failed"):
                return state
            if time.monotonic() > deadline:
                raise ServiceError(f"job {job_id}: still {state.get('status')} after {timeout}s")
            time.sleep(poll)

    def law(self, law_id: str) -> dict[str, Any]:
        """One law with its constants and metadata (``GET /v1/laws/{law_id}``)."""
        return dict(self._request("GET", f"/v1/laws/{law_id}"))

    def allocate(self, flops: float, law: str) -> dict[str, Any]:
        """The service's compute-optimal answer for ``flops`` under ``law`` (id@version)."""
        return dict(self._request("POST", "/v1/allocate", {"flops": flops, "law": law}))


def _detail(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(data, dict) and "detail" in data:
        return str(data["detail"])[:300]
    return str(data)[:300]
