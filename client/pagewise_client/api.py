"""The API as a client sees it: create a job, upload to S3 directly, poll, download."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import requests

CONTENT_TYPES = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
}
FINAL_STATUSES = ("completed", "failed")


class ApiError(Exception):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"HTTP {status}: {body[:500]}")
        self.status = status
        self.body = body


@dataclass
class PagewiseClient:
    base_url: str
    token: str
    timeout: float = 30.0

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def _check(self, response: requests.Response) -> requests.Response:
        if response.status_code >= 400:
            raise ApiError(response.status_code, response.text)
        return response

    def create_job(self, path: Path, **extra: Any) -> dict[str, Any]:
        content_type = CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")
        body = {
            "file_name": path.name,
            "content_type": content_type,
            "file_size": path.stat().st_size,
            **extra,
        }
        response = requests.post(
            f"{self.base_url}/api/v1/jobs",
            json=body,
            headers=self._headers(),
            timeout=self.timeout,
        )
        created: dict[str, Any] = self._check(response).json()
        return created

    @staticmethod
    def upload(upload: dict[str, Any], path: Path, content: bytes | None = None) -> None:
        """The presigned POST, straight to S3: no token, only the signed policy."""
        data = path.read_bytes() if content is None else content
        response = requests.post(
            upload["url"],
            data=upload["fields"],
            files={"file": (path.name, data)},
            timeout=120,
        )
        if response.status_code not in (200, 201, 204):
            raise ApiError(response.status_code, response.text)

    def _job_url(self, job_id: str, suffix: str = "") -> str:
        # Quoted: a job id typed by a person must not change the path ("../", "?").
        return f"{self.base_url}/api/v1/jobs/{quote(job_id, safe='')}{suffix}"

    def _get_json(self, url: str, **params: Any) -> dict[str, Any]:
        response = requests.get(url, headers=self._headers(), params=params, timeout=self.timeout)
        body: dict[str, Any] = self._check(response).json()
        return body

    def status(self, job_id: str) -> dict[str, Any]:
        return self._get_json(self._job_url(job_id))

    def result(self, job_id: str, page_size: int | None = None) -> dict[str, Any]:
        """The whole result: a long document comes in slices (``next_page_from``), joined here."""
        params: dict[str, Any] = {"page_size": page_size} if page_size else {}
        result = self._get_json(self._job_url(job_id, "/result"), **params)
        while result.get("next_page_from"):
            more = self._get_json(
                self._job_url(job_id, "/result"), **params, page_from=result["next_page_from"]
            )
            result["page_results"].extend(more["page_results"])
            result["next_page_from"], result["next"] = more.get("next_page_from"), more.get("next")
        return result

    def history(self, job_id: str) -> dict[str, Any]:
        """The execution's timeline: one entry per state entered (GET .../history)."""
        return self._get_json(self._job_url(job_id, "/history"))

    def usage(self, start: str | None = None, end: str | None = None) -> dict[str, Any]:
        """The tenant's jobs, pages, tokens and cost in [start, end) (GET /api/v1/usage)."""
        params = {key: value for key, value in (("from", start), ("to", end)) if value}
        return self._get_json(f"{self.base_url}/api/v1/usage", **params)

    def put_glossary(
        self, name: str, body: bytes, content_type: str = "application/json", **params: Any
    ) -> dict[str, Any]:
        """Create or replace the glossary ``name`` (JSON or CSV body)."""
        response = requests.put(
            f"{self.base_url}/api/v1/glossaries/{quote(name, safe='')}",
            data=body,
            params={k: v for k, v in params.items() if v is not None},
            headers={**self._headers(), "Content-Type": content_type},
            timeout=self.timeout,
        )
        answer: dict[str, Any] = self._check(response).json()
        return answer

    def glossary(self, name: str) -> dict[str, Any]:
        return self._get_json(f"{self.base_url}/api/v1/glossaries/{quote(name, safe='')}")

    def glossaries(self) -> dict[str, Any]:
        return self._get_json(f"{self.base_url}/api/v1/glossaries")

    def delete_glossary(self, name: str) -> dict[str, Any]:
        response = requests.delete(
            f"{self.base_url}/api/v1/glossaries/{quote(name, safe='')}",
            headers=self._headers(),
            timeout=self.timeout,
        )
        answer: dict[str, Any] = self._check(response).json()
        return answer

    def list_jobs(self, limit: int = 20, cursor: str | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        return self._get_json(f"{self.base_url}/api/v1/jobs", **params)

    def cancel(self, job_id: str) -> dict[str, Any]:
        """DELETE: cancels a running job, deletes a finished one."""
        response = requests.delete(
            self._job_url(job_id), headers=self._headers(), timeout=self.timeout
        )
        body: dict[str, Any] = self._check(response).json()
        return body

    def wait(
        self,
        job_id: str,
        timeout_seconds: float = 600,
        on_change: Callable[[dict[str, Any]], None] | None = None,
        interval: float = 0.5,
    ) -> dict[str, Any]:
        """Poll until the job is completed or failed; report each change of status/progress."""
        deadline = time.monotonic() + timeout_seconds
        last: tuple[Any, ...] | None = None
        while True:
            status = self.status(job_id)
            details = status["details"]
            seen = (
                details["processing_status"],
                details["current_page"],
                details.get("pages_translated"),
                details["total_pages"],
            )
            if seen != last and on_change is not None:
                on_change(status)
            last = seen
            if details["processing_status"] in FINAL_STATUSES:
                return status
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} still {seen[0]} after {timeout_seconds}s")
            time.sleep(interval)

    def download(self, job_id: str, target: Path, variant: str = "report") -> Path:
        """Save one output (``report``, ``overlay``, ``searchable`` or ``docx``) to ``target``;
        a folder ``target`` gets the file name the server gives (Content-Disposition)."""
        response = requests.get(
            self._job_url(job_id, "/download"),
            params={"variant": variant},
            headers=self._headers(),
            timeout=self.timeout,
            allow_redirects=False,
        )
        if response.status_code != 307:
            raise ApiError(response.status_code, response.text)
        output = requests.get(response.headers["Location"], timeout=120)
        self._check(output)
        if target.is_dir():
            name = file_name(output.headers.get("Content-Disposition", ""))
            target = target / (name or f"{job_id}_{variant}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(output.content)
        return target


def file_name(disposition: str) -> str | None:
    """The file name of a Content-Disposition (RFC 6266: ``filename*`` wins), without any
    folder part."""
    extended = re.search(r"filename\*=UTF-8''([^;]+)", disposition, re.IGNORECASE)
    plain = re.search(r'filename="([^"]*)"', disposition)
    name = unquote(extended.group(1)) if extended else plain.group(1) if plain else ""
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name if name not in ("", ".", "..") else None
