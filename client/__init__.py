"""flopwise's HTTP API from Python: :class:`Client` and :class:`AsyncClient`.

    from flopwise.client import Client

    with Client("http://127.0.0.1:8000") as flopwise:
        plan = flopwise.allocate(5.76e23, law="epoch-2024")   # a fitting Allocation
        loss = flopwise.predict(params=1e9, tokens=2e10)      # a fitting Prediction
        law = flopwise.laws.get("epoch-2024")                 # a fitting Law
        job = flopwise.jobs.wait(flopwise.fit("mydata"))

Answers are the offline library's own types (:mod:`flopwise.client.types`), so code
written against ``flopwise.fitting`` runs against a server. Arguments of both clients:

* ``url``: the server, else ``$FLOPWISE_URL``, else ``http://127.0.0.1:8000``;
* ``api_key``: sent as a bearer token, else ``$FLOPWISE_API_KEY``;
* ``timeout``: seconds to connect and between bytes of an answer (30);
* ``retry``: a :class:`RetryPolicy` (5 tries; ``Retry-After`` honoured; see
  :mod:`flopwise.client.retry` for what is retried);
* ``transport``: an ``httpx`` transport (``httpx.MockTransport`` in a user's tests).

Errors are :class:`FlopwiseError`'s subclasses (:mod:`flopwise.client.errors` has the
whole tree).
"""

from __future__ import annotations

from flopwise.client.aio import AsyncClient
from flopwise.client.errors import FlopwiseError, RequestRejected, ServiceUnavailable
from flopwise.client.retry import RetryPolicy
from flopwise.client.sync import Client
from flopwise.client.upload import UploadReport

__all__ = [
    "AsyncClient",
    "Client",
    "FlopwiseError",
    "RequestRejected",
    "RetryPolicy",
    "ServiceUnavailable",
    "UploadReport",
]
