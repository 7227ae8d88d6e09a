"""Imports from the browser: upload store exports, see the profile and a preview, start the import, follow it.

An upload's body is parsed as it arrives and each file is written to ``<home>/uploads/<upload-id>/`` in the
chunks the client sends (mode 0600), never held in memory; the client's file name is only shown, never used as a
path (the stored name is a number and a cleaned copy). The route has its own body limit
(``SHOPLENS_MAX_UPLOAD_BYTES``), far above the general one.

The import itself is ``shoplens import`` run as a process of its own, with the detected (or chosen) profile: the
same code path, job record and progress as in a terminal, the same summary (its ``--json`` document is kept in
the upload's folder), and the web server's memory untouched by a large file. The page reloads itself while it
runs, showing the job's progress, then the summary and the quarantine file to download.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Annotated, Any

import yaml
from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool

from shoplens.appdb import Job, process_alive, recent_jobs
from shoplens.config import Settings
from shoplens.errors import ShoplensError
from shoplens.ingest import SALES_FIELDS, registered_profiles
from shoplens.warehouse import (
    FilePreview,
    ReadLimits,
    detect_profile,
    file_format,
    get_profile,
    peek_columns,
    preview_file,
)
from shoplens.web._auth import Principal
from shoplens.web._deps import app_database, audit
from shoplens.web._guards import needs_form_token
from shoplens.web._pages import AnalystViewer, render

UPLOADS = "uploads"
UPLOAD_ID = r"^upl-[0-9a-f]{16}$"
MAX_FILES = 20
MAX_FIELD_BYTES = 1024
UPLOADS_SHOWN = 20
JOBS_SEARCHED = 100
STATE = "upload.json"
SUMMARY = "summary.json"
LOG = "import.log"
EXIT = "exit.json"
MAPPING = "mapping.yaml"
CLAIM = "started"
UNSTARTED_KEPT = timedelta(days=1)
ACCEPTED = ".csv, .tsv, .txt, .parquet, .jsonl or .ndjson, each optionally .gz"
# the summary as `shoplens import --json` prints it, in the order the page shows it
SUMMARY_FIELDS = (
    ("rows_read", "Rows read"),
    ("rows_loaded", "Rows loaded"),
    ("rows_quarantined", "Rows quarantined"),
    ("rows_duplicate", "Duplicates skipped (already in the warehouse)"),
    ("rows_updated", "Of the loaded rows, rows that replaced a stored one"),
    ("orders", "Orders in the files"),
    ("orders_new", "New orders loaded"),
    ("customers", "Customers in the files"),
    ("customers_new", "New customers loaded"),
    ("refunds", "Refunds in the files"),
    ("guest_rows", "Guest order lines"),
    ("rows_empty", "Empty lines skipped"),
    ("seconds", "Seconds"),
)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class UploadRefusedError(Exception):
    """An upload that is not kept, with the one-line reason the page shows."""


@dataclass
class Upload:
    """One upload's folder and what is known of it (kept in its ``upload.json``)."""

    directory: Path
    files: list[dict[str, Any]] = field(default_factory=list)  # {"name": shown, "stored": file name, "bytes": n}
    profile: str | None = None
    detection_error: str | None = None
    mapping: dict[str, Any] | None = None
    created_at: str = ""
    started: dict[str, Any] | None = None  # {"pid", "at", "by"} once the import was started

    @property
    def upload_id(self) -> str:
        return self.directory.name

    @property
    def paths(self) -> list[Path]:
        return [self.directory / f["stored"] for f in self.files]

    def save(self) -> None:
        state = {
            "files": self.files,
            "profile": self.profile,
            "detection_error": self.detection_error,
            "mapping": self.mapping,
            "created_at": self.created_at,
            "started": self.started,
        }
        _write_private(self.directory / STATE, json.dumps(state).encode())

    @classmethod
    def load(cls, directory: Path) -> Upload | None:
        try:
            state = json.loads((directory / STATE).read_text(encoding="utf-8"))
            return cls(directory, **state)
        except (OSError, json.JSONDecodeError, TypeError):
            return None  # not an upload's folder, or one this version does not read

    def discard_exports(self) -> None:
        """Delete the uploaded files: they hold personal data in the clear, which after the import is in the
        vault only (where an erasure reaches it)."""
        for path in self.paths:
            path.unlink(missing_ok=True)

    def shown(self, message: str) -> str:
        """``message`` with the server's paths of the files replaced by the names the client gave them."""
        pairs = [(str(path), f["name"]) for path, f in zip(self.paths, self.files, strict=True)]
        for stored, name in sorted(pairs, key=lambda pair: -len(pair[0])):  # a longer path before its prefix
            message = message.replace(stored, name)
        return message.replace(str(self.directory), "upload").splitlines()[0] if message else message


def _write_private(path: Path, data: bytes) -> None:
    hidden = path.with_name(f".{path.name}.new")
    handle = os.open(hidden, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    os.replace(hidden, path)


def uploads_dir(settings: Settings) -> Path:
    return settings.home / UPLOADS


def new_upload_dir(settings: Settings) -> Path:
    parent = uploads_dir(settings)
    parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    directory = parent / f"upl-{secrets.token_hex(8)}"
    directory.mkdir(mode=0o700)
    return directory


def safe_name(given: str, index: int) -> str:
    """The name a client's file is stored under: its number and the last part of its name, cleaned (letters,
    digits, ``.``, ``_``, ``-``); never a path. Raises :class:`UploadRefusedError` for a kind of file the import
    cannot read."""
    base = _UNSAFE.sub("-", re.split(r"[\\/]", given)[-1]).strip(".-")[-80:] or "upload"
    stored = f"{index}-{base}"
    try:
        file_format(Path(stored))
    except ShoplensError:
        raise UploadRefusedError(f"{shown_name(given)}: not a file the import reads; use {ACCEPTED}") from None
    return stored


def shown_name(given: str) -> str:
    """A client's file name as the page shows it: its last part, without control characters, at most 100."""
    return "".join(c for c in re.split(r"[\\/]", given)[-1] if c.isprintable())[:100] or "upload"


class UploadReceiver:
    """Parses a multipart body chunk by chunk: file parts go straight to their files in ``directory``, the few
    small text fields are kept. ``token``: the CSRF token the form must show before its first file."""

    def __init__(self, directory: Path, boundary: bytes, token: str | None) -> None:
        self.directory = directory
        self.token = token
        self.token_seen = token is None
        self.fields: dict[str, str] = {}
        self.files: list[dict[str, Any]] = []
        self._headers: dict[bytes, bytes] = {}
        self._header_name = b""
        self._header_value = b""
        self._name = ""
        self._text: bytearray | None = None
        self._out: IO[bytes] | None = None
        self._file: dict[str, Any] | None = None
        self.parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._part_begin,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value_part,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._part_data,
                "on_part_end": self._part_end,
            },
        )

    def write(self, chunk: bytes) -> None:
        try:
            self.parser.write(chunk)
        except FormParserError:
            raise UploadRefusedError("the upload is not a well-formed form (multipart/form-data)") from None

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None

    def _part_begin(self) -> None:
        self._headers, self._header_name, self._header_value = {}, b"", b""

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_part(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._header_name.lower()] = self._header_value
        self._header_name, self._header_value = b"", b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        self._name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        self._text, self._file = None, None
        if filename is None:
            self._text = bytearray()
            return
        given = filename.decode("utf-8", "replace")
        if not given:
            return  # a file input left empty
        if not self.token_seen:
            raise UploadRefusedError("the form's CSRF token must come before its files; reload the page and retry")
        if self._name != "files":
            raise UploadRefusedError("files are sent in the form's field named files")
        if len(self.files) >= MAX_FILES:
            raise UploadRefusedError(f"at most {MAX_FILES} files at once")
        stored = safe_name(given, len(self.files) + 1)
        handle = os.open(self.directory / stored, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        self._out = os.fdopen(handle, "wb", buffering=0)  # each chunk reaches the file as it arrives
        self._file = {"name": shown_name(given), "stored": stored, "bytes": 0}

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._out is not None and self._file is not None:
            self._out.write(data[start:end])
            self._file["bytes"] += end - start
        elif self._text is not None:
            self._text += data[start:end]
            if len(self._text) > MAX_FIELD_BYTES:
                raise UploadRefusedError(f"the form field {self._name[:40]!r} is too long")

    def _part_end(self) -> None:
        if self._file is not None:
            self.close()
            self.files.append(self._file)
            self._file = None
        elif self._text is not None:
            value = self._text.decode("utf-8", "replace")
            self.fields[self._name] = value
            if self._name == "csrf_token" and self.token is not None:
                self.token_seen = self.token_seen or secrets.compare_digest(value, self.token)
            self._text = None


def settings_of(request: Request) -> Settings:
    found = request.app.state.settings
    assert isinstance(found, Settings)
    return found


def upload_of(request: Request, upload_id: str) -> Upload | None:
    return Upload.load(uploads_dir(settings_of(request)) / upload_id)


def detect(upload: Upload, chosen: str) -> None:
    """The upload's profile: ``chosen``, or the one ``shoplens import`` would detect; else why none was."""
    if chosen:
        if chosen not in registered_profiles():
            upload.detection_error = f"there is no profile {chosen[:40]!r}; see shoplens profiles"
        else:
            upload.profile = chosen
        return
    try:
        upload.profile = detect_profile(upload.paths).name
    except ShoplensError as exc:
        # the command line's advice, said as this page's controls
        shown = upload.shown(str(exc)).replace("name it with --profile (see shoplens profiles)", "choose its kind")
        upload.detection_error = shown.replace("choose with --profile", "choose its kind when uploading")


@dataclass(frozen=True)
class ImportState:
    """How far the upload's import has got: ``running`` (with its job, once it has one), ``done`` (with the
    summary), ``failed`` (with the reason) or ``interrupted``."""

    state: str
    job: Job | None = None
    summary: dict[str, Any] | None = None
    reason: str | None = None


def import_state(request: Request, upload: Upload) -> ImportState | None:
    started = upload.started
    if started is None:
        return None
    summary = _read_json(upload.directory / SUMMARY)
    job = None if summary is not None else _job_of(request, int(started["pid"]))
    if summary is not None:
        found = ImportState("done", summary=summary)
    elif _read_json(upload.directory / EXIT) is not None or (job is not None and job.state == "failed"):
        found = ImportState("failed", job=job, reason=_failure(upload, job))  # the job's state: no server waited
    elif (job is not None and job.state == "interrupted") or not process_alive(int(started["pid"])):
        found = ImportState("interrupted", job=job, reason="the import stopped before it finished (see the Jobs page)")
    else:
        return ImportState("running", job=job)
    upload.discard_exports()  # also when the server that started the import did not see it end
    return found


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return found if isinstance(found, dict) else None


def _job_of(request: Request, pid: int) -> Job | None:
    """The job row the import process wrote (the newest import job of that process on this machine)."""
    host = socket.gethostname()
    for job in recent_jobs(app_database(request), limit=JOBS_SEARCHED):
        if job.kind == "import" and job.pid == pid and job.host == host:
            return job
    return None


def _failure(upload: Upload, job: Job | None) -> str:
    if job is not None and job.message:
        return upload.shown(job.message)
    try:
        lines = [line.strip() for line in (upload.directory / LOG).read_text("utf-8", "replace").splitlines()]
    except OSError:
        lines = []
    last = next((line for line in reversed(lines) if line), "the import failed")
    return upload.shown(last.removeprefix("Error: "))[:300]


def start_import(settings: Settings, upload: Upload, principal: Principal) -> bool:
    """``shoplens import`` of the upload's files as a process of its own; a thread waits for it and notes its exit
    code (a failure's reason is the one line it printed on stderr). False when it was started already (a second
    click of Start, even at the same moment)."""
    assert upload.profile is not None
    try:
        os.close(os.open(upload.directory / CLAIM, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        return False
    command = [sys.executable, "-m", "shoplens", "--home", str(settings.home), "import"]
    command += [str(path) for path in upload.paths] + ["--profile", upload.profile, "--json"]
    if upload.mapping is not None:
        _write_private(upload.directory / MAPPING, yaml.safe_dump(upload.mapping).encode())
        command += ["--mapping", str(upload.directory / MAPPING)]
    with (
        os.fdopen(os.open(upload.directory / SUMMARY, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as out,
        os.fdopen(os.open(upload.directory / LOG, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as log,
    ):
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=log, start_new_session=True)
    upload.started = {"pid": process.pid, "at": datetime.now(UTC).isoformat(), "by": principal.actor}
    upload.save()
    threading.Thread(target=_wait_for, args=(process, upload.directory), daemon=True).start()
    return True


def _wait_for(process: subprocess.Popen[bytes], directory: Path) -> None:
    code = process.wait()
    if code != 0:
        (directory / SUMMARY).unlink(missing_ok=True)  # an empty or partial document is no summary
    _write_private(directory / EXIT, json.dumps({"code": code}).encode())
    upload = Upload.load(directory)
    if upload is not None:
        upload.discard_exports()


def prune_uploads(settings: Settings, now: datetime) -> None:
    """Delete the uploads never imported within :data:`UNSTARTED_KEPT` (their files hold personal data)."""
    parent = uploads_dir(settings)
    if not parent.is_dir():
        return
    for path in parent.iterdir():
        upload = Upload.load(path)
        if upload is None or upload.started is not None or not upload.created_at:
            continue
        if now - datetime.fromisoformat(upload.created_at) > UNSTARTED_KEPT:
            shutil.rmtree(path, ignore_errors=True)


def recent_uploads(settings: Settings) -> list[Upload]:
    parent = uploads_dir(settings)
    if not parent.is_dir():
        return []
    found = [upload for path in parent.iterdir() if (upload := Upload.load(path)) is not None]
    return sorted(found, key=lambda upload: upload.created_at, reverse=True)[:UPLOADS_SHOWN]


def mapping_form_fields(columns: list[str], mapping: dict[str, Any] | None) -> list[dict[str, Any]]:
    chosen = (mapping or {}).get("columns", {})
    return [
        {
            "name": f.name,
            "meaning": f.meaning,
            "required": f.required,
            "selected": chosen.get(f.name, _guess(f.name, columns) if mapping is None else ""),
        }
        for f in SALES_FIELDS
    ]


def _guess(name: str, columns: list[str]) -> str:
    """A column whose name is the field's (ignoring case, spaces and underscores), to start the form with."""
    wanted = name.replace("_", "")
    return next((c for c in columns if re.sub(r"[\s_-]+", "", c.lower()) == wanted), "")


def mapping_from_form(form: dict[str, str]) -> dict[str, Any]:
    """The YAML mapping ``--mapping`` takes, from the form: each field's column, the date format and currency."""
    columns = {f.name: form[f"column_{f.name}"] for f in SALES_FIELDS if form.get(f"column_{f.name}")}
    mapping: dict[str, Any] = {"columns": columns}
    if form.get("date_format", "").strip():
        mapping["date_format"] = form["date_format"].strip()
    if form.get("currency", "").strip():
        mapping["constants"] = {"currency": form["currency"].strip().upper()[:3]}
    return mapping


def read_limits(settings: Settings) -> ReadLimits:
    """The store's limits on what an import reads (``import_max_*``), as ``shoplens import`` applies them."""
    return ReadLimits(
        max_record_bytes=settings.import_max_record_bytes,
        max_expansion=settings.import_max_expansion,
        max_decompressed_bytes=settings.import_max_decompressed_bytes,
        memory_limit_bytes=settings.import_memory_limit_bytes,
    )


def previews(upload: Upload, limits: ReadLimits) -> tuple[list[tuple[str, FilePreview]], str | None]:
    """The preview of each file with the upload's profile, or the one-line reason there is none."""
    if upload.profile is None:
        return [], None
    try:
        profile = get_profile(upload.profile)
        if profile.needs_mapping and upload.mapping is None:
            return [], None
        found = [
            (f["name"], preview_file(path, upload.profile, upload.mapping, limits=limits))
            for f, path in zip(upload.files, upload.paths, strict=True)
        ]
    except ShoplensError as exc:
        return [], upload.shown(str(exc))
    return found, None


routes = APIRouter(include_in_schema=False)


def router() -> APIRouter:
    return routes


def _page(request: Request, principal: Principal, upload: Upload | None = None, **context: Any) -> HTMLResponse:
    profiles = sorted(registered_profiles().values(), key=lambda p: p.name)
    settings = settings_of(request)
    context.setdefault("error", None)
    context.setdefault("uploads", recent_uploads(settings) if upload is None else [])
    limit = request.app.state.web_settings.max_upload_bytes
    return render(
        request,
        "import.html",
        principal,
        upload=upload,
        profiles=profiles,
        accepted=ACCEPTED,
        upload_limit=_size(limit),
        summary_fields=SUMMARY_FIELDS,
        **context,
    )


def _size(count: int) -> str:
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if count >= size:
            return f"{count / size:.3g} {unit}"
    return f"{count} bytes"


@routes.get("/import", response_class=HTMLResponse)
def import_page(request: Request, principal: AnalystViewer) -> HTMLResponse:
    """Upload store exports; the recent uploads and their imports."""
    return _page(request, principal)


@routes.post("/import", response_class=HTMLResponse)
async def upload_files(request: Request, principal: AnalystViewer) -> Response:
    """Receive the files (streamed to disk as they arrive), detect their profile, and show the upload's page."""
    content_type = request.headers.get("content-type", "")
    kind, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        return _page(request, principal, error="Send the files with the upload form (multipart/form-data).")
    settings = settings_of(request)
    directory = new_upload_dir(settings)
    receiver = UploadReceiver(directory, boundary, principal.csrf_token if needs_form_token(request) else None)
    try:
        async for chunk in request.stream():
            receiver.write(chunk)
        if not receiver.token_seen:
            raise UploadRefusedError("the form's CSRF token is missing or wrong; reload the page and retry")
        if not receiver.files:
            raise UploadRefusedError("choose at least one file to upload")
    except UploadRefusedError as exc:
        receiver.close()
        shutil.rmtree(directory, ignore_errors=True)
        return _page(request, principal, error=f"Not uploaded: {exc}.")
    except BaseException:
        receiver.close()
        shutil.rmtree(directory, ignore_errors=True)
        raise
    now = datetime.now(UTC)
    upload = Upload(directory, files=receiver.files, created_at=now.isoformat())
    await run_in_threadpool(detect, upload, receiver.fields.get("profile", "").strip())
    upload.save()
    await run_in_threadpool(prune_uploads, settings, now)
    audit(request, principal.actor, "import.upload", {"upload_id": upload.upload_id, "files": len(upload.files)})
    return RedirectResponse(f"/import/{upload.upload_id}", status_code=303)


UploadId = Annotated[str, PathParam(pattern=UPLOAD_ID)]


@routes.get("/import/{upload_id}", response_class=HTMLResponse)
def upload_page(request: Request, principal: AnalystViewer, upload_id: UploadId) -> HTMLResponse:
    """One upload: its files, profile, preview or column mapping, and its import's progress and summary."""
    upload = upload_of(request, upload_id)
    if upload is None:
        return _page(request, principal, error="There is no such upload.")
    state = import_state(request, upload)
    found, error = ([], None) if state is not None else previews(upload, read_limits(settings_of(request)))
    columns: list[str] = []
    needs_mapping = upload.profile is not None and get_profile(upload.profile).needs_mapping
    if state is None and (upload.detection_error is not None or needs_mapping):
        try:
            columns = peek_columns(upload.paths[0], get_profile("generic").dialect)
        except ShoplensError as exc:
            error = error or upload.shown(str(exc))
    return _page(
        request,
        principal,
        upload,
        state=state,
        previews=found,
        error=error,
        columns=columns,
        mapping_fields=mapping_form_fields(columns, upload.mapping) if columns else [],
        mapping=upload.mapping or {},
    )


@routes.post("/import/{upload_id}/mapping", response_class=HTMLResponse)
async def set_mapping(request: Request, principal: AnalystViewer, upload_id: UploadId) -> Response:
    """Read the files with the generic profile and the columns chosen in the form (then preview again)."""
    upload = upload_of(request, upload_id)
    if upload is None:
        return _page(request, principal, error="There is no such upload.")
    if upload.started is not None:
        return RedirectResponse(f"/import/{upload_id}", status_code=303)
    form = {key: value for key, value in (await request.form()).items() if isinstance(value, str)}
    upload.mapping = mapping_from_form(form)
    upload.profile, upload.detection_error = "generic", None
    upload.save()
    return RedirectResponse(f"/import/{upload_id}", status_code=303)


@routes.post("/import/{upload_id}/start", response_class=HTMLResponse)
def start(request: Request, principal: AnalystViewer, upload_id: UploadId) -> Response:
    """Start the upload's import (once); the page then follows it."""
    upload = upload_of(request, upload_id)
    if upload is None:
        return _page(request, principal, error="There is no such upload.")
    if upload.started is None:
        if upload.profile is None:
            return upload_page(request, principal, upload_id)
        _, error = previews(upload, read_limits(settings_of(request)))
        if error is not None or (get_profile(upload.profile).needs_mapping and upload.mapping is None):
            return upload_page(request, principal, upload_id)
        if not start_import(settings_of(request), upload, principal):
            return RedirectResponse(f"/import/{upload_id}", status_code=303)
        details = {"upload_id": upload.upload_id, "profile": upload.profile, "files": len(upload.files)}
        audit(request, principal.actor, "import.start", details)
    return RedirectResponse(f"/import/{upload_id}", status_code=303)


@routes.get("/import/{upload_id}/quarantine")
def quarantine_download(request: Request, principal: AnalystViewer, upload_id: UploadId) -> Response:
    """The quarantine file of this upload's import (its rejected rows with record number and reason; personal
    columns redacted); each download is written to the audit log."""
    upload = upload_of(request, upload_id)
    state = import_state(request, upload) if upload is not None else None
    summary = state.summary if state is not None else None
    if upload is None or summary is None or not summary.get("quarantine_path"):
        return _page(request, principal, upload, error="This upload's import quarantined no rows.", state=state)
    quarantine = settings_of(request).quarantine_dir.resolve()
    path = Path(str(summary["quarantine_path"])).resolve()
    if path.parent != quarantine or path.name != f"{summary['import_id']}.csv" or not path.is_file():
        return _page(request, principal, upload, error="This import's quarantine file is gone.", state=state)
    entry = audit(
        request,
        principal.actor,
        "import.quarantine_download",
        {"upload_id": upload_id, "import_id": summary["import_id"], "rows": summary["rows_quarantined"]},
    )
    headers = {
        "Content-Disposition": f'attachment; filename="quarantine-{summary["import_id"]}.csv"',
        "Cache-Control": "no-store",
        "X-Audit-Entry": str(entry.id),
    }
    return FileResponse(path, media_type="text/csv", headers=headers)
