"""Python client for a running Recoupe server, for notebooks and scripts.

>>> from recoupe.client import Client
>>> rc = Client("http://127.0.0.1:8000", token=os.environ["RECOUPE_TOKEN"])
>>> hits = rc.search("Oussama ben Laden")["results"]
>>> rc.expand(hits[0]["id"], depth=2)["nodes"]
>>> rc.search_frame("Laden")          # a pandas DataFrame

Every method returns the server's JSON as plain dicts and lists; the ``*_frame`` methods
return pandas DataFrames. Errors come back as the exceptions of :mod:`recoupe.errors`
(``NotFound``, ``ConfigError``, ``ServerError``) with the server's message.
"""

from __future__ import annotations

import getpass
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

import httpx

from recoupe.errors import (
    ConfigError,
    Forbidden,
    JustificationRequired,
    MappingError,
    NotFound,
    ServerError,
    Unauthorized,
)

if TYPE_CHECKING:
    import pandas as pd

Params = Mapping[str, Any]


class Client:
    """Talks to one server with an API token (``recoupe users token LOGIN``).

    ``http`` lets tests pass an in-process client.
    """

    def __init__(
        self,
        url: str = "http://127.0.0.1:8000",
        *,
        token: str | None = None,
        justification: str | None = None,
        timeout: float = 60.0,
        http: Any = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.http: httpx.Client = http or httpx.Client(base_url=self.url, timeout=timeout)
        if token is not None:
            self.http.headers["Authorization"] = f"Bearer {token}"
            self.http.headers["X-Recoupe-OS-User"] = getpass.getuser()
        if justification is not None:
            self.justify(justification)

    def justify(self, why: str) -> None:
        """Send ``why`` with every request, for checkpoints and the audit log."""
        self.http.headers["X-Recoupe-Justification"] = quote(why.strip())

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing --------------------------------------------------------------------------
    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ServerError(f"cannot reach the Recoupe server at {self.url}: {exc}") from exc
        return self._check(response)

    def _check(self, response: httpx.Response) -> httpx.Response:
        """The response, or the error its problem document describes."""
        if response.status_code >= 400:
            try:
                detail = str(response.json().get("detail") or response.text)
            except ValueError:
                detail = response.text or response.reason_phrase
            if response.status_code == 404:
                raise NotFound(detail)
            if response.status_code == 401:
                raise Unauthorized(detail)
            if response.status_code == 403:
                raise Forbidden(detail)
            if response.status_code == 428:
                raise JustificationRequired(detail)
            if response.status_code == 400:
                raise ConfigError(detail)
            if response.status_code == 422:
                raise MappingError(detail)
            raise ServerError(f"{response.status_code}: {detail}", status=response.status_code)
        return response

    def get(self, path: str, params: Params | None = None) -> Any:
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        return self._call("GET", path, params=clean).json()

    # -- data ------------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        return dict(self.get("/api/health"))

    def datasets(self) -> list[dict[str, Any]]:
        return list(self.get("/api/datasets"))

    def mark_dataset(
        self, name: str, level: str, compartments: Sequence[str] = ()
    ) -> dict[str, Any]:
        """Mark a dataset (admins): ``level`` such as ``S``, and the compartments needed."""
        body = {"level": level, "compartments": list(compartments)}
        return dict(self._call("PUT", f"/api/datasets/{quote(name)}/marking", json=body).json())

    def runs(self, dataset: str | None = None) -> list[dict[str, Any]]:
        return list(self.get("/api/runs", {"dataset": dataset}))

    def run(self, run_id: str) -> dict[str, Any]:
        return dict(self.get(f"/api/runs/{run_id}"))

    def rejected(self, run_id: str, limit: int = 100, offset: int = 0) -> dict[str, Any]:
        return dict(self.get(f"/api/runs/{run_id}/rejected", {"limit": limit, "offset": offset}))

    def entity(self, entity_id: str) -> dict[str, Any]:
        return dict(self.get(f"/api/entities/{entity_id}"))

    def search(self, q: str = "", **filters: Any) -> dict[str, Any]:
        """Search; filters: schema, dataset, country (lists), date_from, date_to, fuzzy,
        limit, offset, facets."""
        return dict(self.get("/api/search", {"q": q, **filters}))

    # -- graph -----------------------------------------------------------------------------
    def expand(self, ids: str | list[str], depth: int = 1, **filters: Any) -> dict[str, Any]:
        """Neighbourhood of ``ids``; filters: schema, dataset (lists), since, until, cap."""
        return dict(self.get("/api/graph/expand", {"id": ids, "depth": depth, **filters}))

    def paths(self, source: str, target: str, k: int = 1, **filters: Any) -> dict[str, Any]:
        params = {"source": source, "target": target, "k": k, **filters}
        return dict(self.get("/api/graph/paths", params))

    def common(self, ids: list[str]) -> dict[str, Any]:
        return dict(self.get("/api/graph/common", {"id": ids}))

    def communities(self, top: int = 20) -> dict[str, Any]:
        return dict(self.get("/api/graph/communities", {"top": top}))

    def centrality(self, measure: str = "degree", top: int = 20) -> dict[str, Any]:
        return dict(self.get("/api/graph/centrality", {"measure": measure, "top": top}))

    # -- time and places -------------------------------------------------------------------
    def timeline(self, entity_id: str, **params: Any) -> dict[str, Any]:
        """Dated events of an entity; params: since, until, limit, offset."""
        return dict(self.get(f"/api/entities/{entity_id}/timeline", params))

    def histogram(self, ids: list[str], interval: str = "day", **params: Any) -> dict[str, Any]:
        return dict(
            self.get("/api/timeline/histogram", {"id": ids, "interval": interval, **params})
        )

    def near(self, entity_id: str, metres: float = 500, minutes: float = 30) -> dict[str, Any]:
        params = {"metres": metres, "minutes": minutes}
        return dict(self.get(f"/api/entities/{entity_id}/near", params))

    def bbox(self, south: float, west: float, north: float, east: float, **p: Any) -> Any:
        return self.get(
            "/api/places/bbox", {"south": south, "west": west, "north": north, "east": east, **p}
        )

    def radius(self, lat: float, lon: float, metres: float, **p: Any) -> Any:
        return self.get("/api/places/radius", {"lat": lat, "lon": lon, "metres": metres, **p})

    # -- export and ingest -----------------------------------------------------------------
    def export(self, out: Path, format: str = "ftm", dataset: str | None = None) -> dict[str, Any]:
        """Download an export to ``out``; the record count comes from the server's header."""
        params = {k: v for k, v in {"format": format, "dataset": dataset}.items() if v}
        records = 0
        marking: dict[str, Any] = {}
        try:
            with self.http.stream("GET", "/api/export", params=params) as response:
                if response.status_code >= 400:
                    response.read()
                    self._check(response)
                records = int(response.headers.get("X-Records", "0"))
                marking = {
                    "marking": response.headers.get("X-Recoupe-Marking"),
                    "banner": unquote(response.headers.get("X-Recoupe-Banner", "")),
                }
                with out.open("wb") as fh:
                    for chunk in response.iter_bytes():
                        fh.write(chunk)
        except httpx.HTTPError as exc:
            raise ServerError(f"cannot reach the Recoupe server at {self.url}: {exc}") from exc
        return {"format": format, "file": str(out), "records": records, **marking}

    def ingest(
        self,
        mapping: Path,
        files: list[tuple[Path, str]],
        *,
        dataset: str | None = None,
        wait: bool = True,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> dict[str, Any]:
        """Upload ``mapping`` and its ``files`` (path, name the mapping uses); returns the job.

        With ``wait`` the call returns when the run and the refresh that follows are done.
        """
        with ExitStack() as stack:
            parts: list[tuple[str, tuple[str, Any]]] = [
                ("mapping", (mapping.name, stack.enter_context(mapping.open("rb"))))
            ]
            for path, name in files:
                parts.append(("files", (name, stack.enter_context(path.open("rb")))))
            data = {"dataset": dataset} if dataset else {}
            job = dict(self._call("POST", "/api/ingest", files=parts, data=data).json())
        return self.wait(job["id"], progress) if wait else job

    # -- entity resolution --------------------------------------------------------------
    def resolve_run(
        self,
        datasets: Sequence[str] = (),
        full: bool = False,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> list[Any]:
        """Score candidate pairs (new and changed records; ``full``: everything anew);
        waits for the job and returns the run reports, one per schema."""
        body = {"datasets": list(datasets), "full": full}
        job = dict(self._call("POST", "/api/resolve/runs", json=body).json())
        done = self.wait(job["id"], progress)
        if done["state"] == "failed":
            raise ServerError(f"resolution run {job['id']} failed: {done['error']}")
        return list(done["result"]["reports"])

    def resolve_pairs(self, **params: Any) -> list[dict[str, Any]]:
        return list(self.get("/api/resolve/pairs", params))

    def resolve_queue(self, **params: Any) -> list[dict[str, Any]]:
        return list(self.get("/api/resolve/queue", params))

    def resolve_judge(
        self, left: str, right: str, verdict: str, reason: str | None = None
    ) -> dict[str, Any]:
        body = {"left": left, "right": right, "verdict": verdict, "reason": reason}
        return dict(self._call("POST", "/api/resolve/judgements", json=body).json())

    def resolve_undo(self, judgement_id: int, reason: str | None = None) -> dict[str, Any]:
        params = {"reason": reason} if reason else {}
        return dict(
            self._call("DELETE", f"/api/resolve/judgements/{judgement_id}", params=params).json()
        )

    def resolve_undo_entity(self, entity_id: str, reason: str | None = None) -> dict[str, Any]:
        params = {"reason": reason} if reason else {}
        path = f"/api/resolve/entities/{quote(entity_id)}/undo"
        return dict(self._call("POST", path, params=params).json())

    def resolve_judgements(
        self, entity_id: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        return list(self.get("/api/resolve/judgements", {"entity_id": entity_id, "limit": limit}))

    def resolve_explain(self, entity_id: str) -> dict[str, Any]:
        return dict(self.get(f"/api/resolve/entities/{quote(entity_id)}"))

    def job(self, job_id: str) -> dict[str, Any]:
        return dict(self.get(f"/api/jobs/{job_id}"))

    def wait(
        self,
        job_id: str,
        progress: Callable[[str, int, int], None] | None = None,
        poll: float = 0.5,
    ) -> dict[str, Any]:
        """Poll a job until it is done or failed; report its progress on the way."""
        while True:
            job = self.job(job_id)
            if progress is not None and job.get("stage"):
                progress(str(job["stage"]), int(job["done"]), int(job["total"]))
            if job["state"] in ("done", "failed"):
                return job
            time.sleep(poll)

    # -- frames ----------------------------------------------------------------------------
    def search_frame(self, q: str = "", **filters: Any) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.search(q, **filters)["results"])

    def timeline_frame(self, entity_id: str, **params: Any) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.timeline(entity_id, **params)["items"])

    def graph_frames(
        self, ids: str | list[str], depth: int = 1, **filters: Any
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(nodes, edges) of a neighbourhood as two DataFrames."""
        import pandas as pd

        graph = self.expand(ids, depth, **filters)
        return pd.DataFrame(graph["nodes"]), pd.DataFrame(graph["edges"])

    def iter_search(self, q: str = "", page: int = 100, **filters: Any) -> Iterator[dict[str, Any]]:
        """Every result of a search, page by page (up to the server's paging window)."""
        offset = 0
        while True:
            found = self.search(q, limit=page, offset=offset, facets=False, **filters)
            yield from found["results"]
            offset += page
            if offset >= found["total"] or not found["results"]:
                return
