"""Ingest over HTTP: upload a mapping and its files; the run is a job with progress."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path, PurePosixPath
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import JSONResponse

from recoupe.api.deps import RuntimeDep, WriterDep, fast_json
from recoupe.errors import ConfigError
from recoupe.services.ingest import PREVIEW_ROWS, check_uploaded, ingest_mapping, preview_mapping
from recoupe.services.jobs import Job

router = APIRouter(prefix="/api", tags=["ingest"])


def _safe_name(name: str | None, what: str) -> PurePosixPath:
    """A relative path without '..' (uploads never write outside their folder)."""
    if not name:
        raise ConfigError(f"{what}: the upload has no file name")
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise ConfigError(f"{what}: file name {name!r} must be relative, without '..'")
    return path


def _receive(folder: Path, mapping: UploadFile, files: list[UploadFile]) -> Path:
    """Write an upload into ``folder``; the mapping's path."""
    mapping_path = folder / _safe_name(mapping.filename, "mapping").name
    with mapping_path.open("wb") as out:
        shutil.copyfileobj(mapping.file, out)
    for upload in files:
        target = folder / _safe_name(upload.filename, "files")
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as out:
            shutil.copyfileobj(upload.file, out, length=1 << 20)
    return mapping_path


@router.post(
    "/ingest",
    status_code=202,
    summary="Upload a mapping file and its source files; the run is queued as a job",
)
def ingest(
    runtime: RuntimeDep,
    writer: WriterDep,
    mapping: Annotated[UploadFile, File(description="The mapping (YAML)")],
    files: Annotated[
        list[UploadFile], File(description="Source files, named as the mapping names them")
    ],
    dataset: Annotated[str | None, Form(description="Dataset name (overrides the mapping)")] = None,
) -> JSONResponse:
    folder = runtime.workspace / "uploads" / uuid.uuid4().hex[:12]
    folder.mkdir(parents=True)
    try:
        mapping_path = _receive(folder, mapping, files)
        check_uploaded(mapping_path, folder, runtime.store.model, dataset)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise

    def work(job: Job) -> dict[str, Any]:
        session = runtime.session()
        try:
            run = ingest_mapping(
                session, mapping_path, dataset, job.progress, runtime.settings.scale
            )
            derived = runtime.refresh(job.progress)
        finally:
            session.con.close()
            shutil.rmtree(folder, ignore_errors=True)
        return {"run": run.summary(), "derived": derived.to_dict()}

    job = runtime.jobs.submit("ingest", f"ingest {mapping_path.name}", work)
    body = job.to_dict()
    return JSONResponse(body, status_code=202, headers={"Location": f"/api/jobs/{job.id}"})


@router.post(
    "/ingest/preview",
    summary="Map the first rows of an uploaded mapping's files, storing nothing",
)
def ingest_preview(
    runtime: RuntimeDep,
    writer: WriterDep,
    mapping: Annotated[UploadFile, File(description="The mapping (YAML)")],
    files: Annotated[
        list[UploadFile], File(description="Source files, named as the mapping names them")
    ],
    dataset: Annotated[str | None, Form(description="Dataset name (overrides the mapping)")] = None,
    rows: Annotated[int, Form(ge=1, le=1000)] = PREVIEW_ROWS,
) -> dict[str, Any]:
    folder = runtime.workspace / "uploads" / f"preview-{uuid.uuid4().hex[:12]}"
    folder.mkdir(parents=True)
    try:
        mapping_path = _receive(folder, mapping, files)
        check_uploaded(mapping_path, folder, runtime.store.model, dataset)
        return preview_mapping(mapping_path, folder, runtime.store.model, dataset, rows)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@router.get("/jobs", summary="Background jobs, newest first")
@fast_json
def jobs(runtime: RuntimeDep) -> list[dict[str, Any]]:
    return [j.to_dict() for j in runtime.jobs.list()]


@router.get("/jobs/{job_id}", summary="One job: state, progress, result or error")
@fast_json
def job(job_id: str, runtime: RuntimeDep) -> dict[str, Any]:
    return runtime.jobs.get(job_id).to_dict()
