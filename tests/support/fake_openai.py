"""A local OpenAI-compatible chat-completions server for tests, with faults on demand.

In process::

    with FakeOpenAI() as fake:                       # 127.0.0.1, a free port
        fake.fail_next(429, 429)                     # the next two calls get 429, then normal
        client = openai.OpenAI(base_url=fake.base_url, api_key="k")
        ...
        assert len(fake.requests) == 3

As a process, for functions that run elsewhere (the e2e tests' host Lambda environments)::

    python -m tests.support.fake_openai --port 0 --pid-file /tmp/fake.pid
    # prints its base URL (http://127.0.0.1:PORT/v1) on the first line of stdout

Endpoints:

* ``POST /v1/chat/completions`` (also without ``/v1``). A request with a ``response_format``
  (a page translation) gets the JSON object ``{"legal_english": "LEGAL EN: <page text>",
  "plain_english": "PLAIN EN: <page text>", "detected_language": "es" | "en"}``, where the page
  text is what the prompt carries between ``<page>`` and ``</page>`` (or the whole last user
  message). Any other request (a summary) gets ``"SUMMARY(<tag>): <first words>"``, where
  ``<tag>`` is ``document``, ``part`` or ``summaries`` (the tag around the text in the prompt,
  or ``text``). A per-block translation (the blocks as JSON between ``<blocks>`` and
  ``</blocks>``) gets ``{"blocks": [{"id": ..., "legal_english": "LEGAL EN: <text>"}]}``.
  ``usage`` counts about 4 characters per token.
  Issue 17: a page translation applies the glossary lines of its prompt (``- source → target``:
  each source term, any case, becomes the target term in the echoed text) except the terms
  told to be missed (``miss_glossary``); so does a per-block translation, in each block's
  text, with the glossary lines of its first prompt (a corrective retry included); a JSON
  request whose text is a ``<document>`` (the cited summary) gets ``{"overview": [...],
  "facts": [...]}``: per ``[Page N]`` block one overview sentence citing N and one ``dates``
  fact quoting that page's first words, plus, on purpose, one ``amounts`` fact citing page 1
  with a quote that is not on page 1 (the last page's last words when there are two pages or
  more, else an invented sentence).
* ``GET /v1/models``: one model, ``fake-model``.
* ``POST /_control`` with JSON, any of: ``{"fail": [429, 500, "invalid_json", ...]}``
  (faults for the next calls, one per call, appended to the queue), ``{"down": 500}`` (every
  call fails with that status; ``true`` means 500, ``false``/``null`` ends it),
  ``{"delay_seconds": 2}`` (every call), ``{"miss_glossary": {"term": 2}}`` (the next 2
  page translations carrying ``term`` leave it untranslated, and so do the next 2 per-block
  translations carrying it, in every block: the two kinds count apart, so that TranslatePage's
  page and block calls, made at once, each see the count given; a list: always),
  ``{"retry_after_ms": 1}`` (sent with 429/5xx; ``null`` sends none), ``{"reset": true}``
  (no faults, no delay, requests forgotten), ``{"clear_requests": true}``. Answers the
  resulting state.
* ``GET /_requests``: ``{"requests": [...]}``, each ``{path, headers, body, answer, kind,
  received}`` (``kind``: ``"blocks"`` or ``"page"``; ``received``: this process's monotonic
  clock when the request arrived).
* ``GET /_health``: ``{"ok": true}``.

Faults: an HTTP status (``429``, ``500``, ``400``, ``401``...) with an OpenAI-style error body;
``"invalid_json"`` (200 with content that is not JSON); ``"truncated"`` (finish_reason
``length``); ``"content_filter"``; ``"refusal"``; ``"empty"`` (empty content); ``"drop"`` (close
the connection without an answer); or a dict with any of ``status``, ``code``, ``message``,
``type``, ``headers``, ``content``, ``finish_reason``, ``delay`` (seconds before answering),
``target`` (``"blocks"``: only a per-block translation takes it; ``"page"``: only any other
request; unset: the next request of either kind). A request takes the first queued fault
meant for its kind; ``down`` applies to every request.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

Fault = int | str | dict[str, Any]

_TAG = re.compile(r"<(page|document|part|summaries)>\n?(.*?)\n?</\1>", re.DOTALL)
_BLOCKS = re.compile(r"<blocks>\n?(.*?)\n?</blocks>", re.DOTALL)
_SPANISH_HINTS = re.compile(r"[ñáéíóú¿¡]|\b(el|la|los|las|del|que|por|para)\b", re.IGNORECASE)
_SUMMARY_WORDS = 12
_GLOSSARY_LINE = re.compile(r"^- (.+?) → (.+?)(?: \(.*\))?$", re.MULTILINE)
_PAGE_BLOCK = re.compile(r"\[Page (\d+)\]\n(.*?)(?=\n\n\[Page \d+\]\n|\Z)", re.DOTALL)
_DEFAULT_ERRORS = {
    400: ("invalid_request_error", "invalid_request", "The request was invalid."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided: {key}."),
    403: ("invalid_request_error", "unsupported_country", "Access to this model is denied."),
    404: ("invalid_request_error", "model_not_found", "The model `{model}` does not exist."),
    408: ("server_error", None, "Request timed out."),
    422: ("invalid_request_error", None, "Unprocessable entity."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for {model}."),
    500: ("server_error", None, "The server had an error while processing your request."),
    502: ("server_error", None, "Bad gateway."),
    503: ("server_error", None, "The engine is currently overloaded."),
}


def _targeted(fault: Fault, target: str) -> dict[str, Any]:
    """``fault`` as a dict that only a request of kind ``target`` takes."""
    if isinstance(fault, int):
        return {"status": fault, "target": target}
    if isinstance(fault, str):
        return {"kind": fault, "target": target}
    return {**fault, "target": target}


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


class FakeOpenAI:
    """The server; thread-safe; ``start()``/``stop()`` or a ``with`` block."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        fail: list[Fault] | tuple[Fault, ...] = (),
        down: int | bool | None = None,
        delay_seconds: float = 0.0,
        retry_after_ms: float | None = 1.0,
        model: str = "fake-model",
    ) -> None:
        self.host = host
        self.port = port
        self.model = model
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._faults: list[Fault] = list(fail)
        self._down: int | None = None
        self._delay = 0.0
        # The openai client honours retry-after-ms, so its own retries cost ~nothing in tests.
        self._retry_after_ms = retry_after_ms
        self._requests: list[dict[str, Any]] = []
        # Per request kind ("page", "blocks"): glossary source terms (casefolded) the next
        # answers leave out, and how many times.
        self._miss_glossary: dict[str, dict[str, int]] = {"page": {}, "blocks": {}}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.control({"down": down, "delay_seconds": delay_seconds})

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> FakeOpenAI:
        if self._server is not None:
            return self
        fake = self

        class Handler(_Handler):
            server_fake = fake

        server = ThreadingHTTPServer((self.host, self.port), Handler)
        server.daemon_threads = True
        self._server = server
        self.port = server.server_address[1]
        self._stopping.clear()
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()  # wakes delayed answers
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What to give the openai client (``OPENAI_BASE_URL``)."""
        return f"{self.url}/v1"

    # -- control ----------------------------------------------------------------------------

    def control(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The ``POST /_control`` semantics, in process."""
        with self._lock:
            if payload.get("reset"):
                self._faults.clear()
                self._down = None
                self._delay = 0.0
                self._requests.clear()
                for counts in self._miss_glossary.values():
                    counts.clear()
            if "miss_glossary" in payload:
                misses = payload["miss_glossary"] or {}
                if isinstance(misses, list):
                    misses = dict.fromkeys(misses, 1_000_000)
                for counts in self._miss_glossary.values():
                    counts.update({str(k).casefold(): int(v) for k, v in misses.items()})
            if payload.get("clear_requests"):
                self._requests.clear()
            if "fail" in payload:
                faults = payload["fail"]
                self._faults.extend(faults if isinstance(faults, list) else [faults])
            if "down" in payload:
                down = payload["down"]
                self._down = (500 if down is True else int(down)) if down else None
            if "delay_seconds" in payload:
                self._delay = float(payload["delay_seconds"] or 0.0)
            if "retry_after_ms" in payload:
                value = payload["retry_after_ms"]
                self._retry_after_ms = None if value is None else float(value)
            return {
                "fail": list(self._faults),
                "down": self._down,
                "delay_seconds": self._delay,
                "retry_after_ms": self._retry_after_ms,
                "requests": len(self._requests),
            }

    def fail_next(self, *faults: Fault, target: str | None = None) -> None:
        """Queue ``faults``; with ``target`` (``"page"`` or ``"blocks"``), each is taken only
        by a request of that kind (TranslatePage makes its page and block calls at once)."""
        if target is not None:
            faults = tuple(_targeted(fault, target) for fault in faults)
        self.control({"fail": list(faults)})

    def set_down(self, status: int | None = 500) -> None:
        self.control({"down": status})

    def reset(self) -> None:
        self.control({"reset": True})

    @property
    def requests(self) -> list[dict[str, Any]]:
        """The chat-completion requests received, oldest first (a copy)."""
        with self._lock:
            return list(self._requests)

    # -- answering --------------------------------------------------------------------------

    def _next_fault(self, kind: str) -> tuple[Fault | None, float]:
        with self._lock:
            fault: Fault | None = None
            for index, queued in enumerate(self._faults):
                if not isinstance(queued, dict) or queued.get("target") in (None, kind):
                    fault = self._faults.pop(index)
                    break
            if fault is None and self._down is not None:
                fault = self._down
            return fault, self._delay

    def _record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._requests.append(entry)

    def answer(
        self, body: dict[str, Any], headers: dict[str, str], path: str
    ) -> tuple[int, dict[str, str], dict[str, Any]] | None:
        """(status, headers, JSON body) for a chat request, or None to drop the connection."""
        messages = body.get("messages") or []
        is_blocks = _BLOCKS.search(str(messages[1].get("content") if len(messages) > 1 else ""))
        fault, delay = self._next_fault("blocks" if is_blocks else "page")
        spec: dict[str, Any] = {}
        if isinstance(fault, int):
            spec = {"status": fault}
        elif isinstance(fault, str):
            spec = {"kind": fault}
        elif isinstance(fault, dict):
            spec = dict(fault)
        delay = float(spec.get("delay", delay) or 0.0)
        self._record(
            {
                "path": path,
                "headers": headers,
                "body": body,
                "answer": fault or "ok",
                "kind": "blocks" if is_blocks else "page",
                "received": time.monotonic(),
            }
        )
        if delay > 0 and self._stopping.wait(delay):
            return None
        if spec.get("kind") == "drop":
            return None
        status = int(spec.get("status", 200))
        model = str(body.get("model") or self.model)
        if status != 200:
            return self._error(status, spec, headers, model)

        json_output = bool(body.get("response_format"))
        content, tag = self._content(messages, json_output)
        if is_blocks:
            content, tag = self._blocks(messages), "blocks"
        finish_reason = "stop"
        refusal = None
        kind = spec.get("kind")
        if kind == "invalid_json":
            content = "Sure! Here is the translation you asked for, but not as JSON."
        elif kind == "truncated":
            content, finish_reason = content[: len(content) // 2], "length"
        elif kind == "content_filter":
            content, finish_reason = "", "content_filter"
        elif kind == "refusal":
            content, refusal = "", "I cannot help with that."
        elif kind == "empty":
            content = ""
        if "content" in spec:
            content = str(spec["content"])
        finish_reason = str(spec.get("finish_reason", finish_reason))
        prompt_chars = sum(len(str(m.get("content") or "")) for m in messages)
        completion = {
            "id": f"chatcmpl-fake-{time.monotonic_ns()}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "system_fingerprint": "fake",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": refusal},
                    "finish_reason": finish_reason,
                    "logprobs": None,
                }
            ],
            "usage": {
                "prompt_tokens": max(1, prompt_chars // 4),
                "completion_tokens": _tokens(content),
                "total_tokens": max(1, prompt_chars // 4) + _tokens(content),
            },
        }
        return 200, {"x-fake-tag": tag}, completion

    def _error(
        self, status: int, spec: dict[str, Any], headers: dict[str, str], model: str
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        default_type, default_code, template = _DEFAULT_ERRORS.get(
            status, ("server_error" if status >= 500 else "invalid_request_error", None, "Error.")
        )
        key = headers.get("authorization", "").removeprefix("Bearer ").strip()
        message = str(spec.get("message", template)).format(key=key, model=model)
        error = {
            "message": message,
            "type": spec.get("type", default_type),
            "param": None,
            "code": spec.get("code", default_code),
        }
        out_headers = {str(k): str(v) for k, v in (spec.get("headers") or {}).items()}
        if (status == 429 or status >= 500) and self._retry_after_ms is not None:
            out_headers.setdefault("retry-after-ms", f"{self._retry_after_ms:g}")
        return status, out_headers, {"error": error}

    def _blocks(self, messages: list[dict[str, Any]]) -> str:
        """A per-block translation: each block sent comes back as "LEGAL EN: <text>", with
        the glossary lines of the prompt applied."""
        prompt = str(messages[1].get("content") or "")
        match = _BLOCKS.search(prompt)
        blocks = json.loads(match.group(1)) if match else []
        texts = self._apply_glossary(prompt, [str(b["text"]) for b in blocks], "blocks")
        answer = [
            {"id": b["id"], "legal_english": f"LEGAL EN: {text}"}
            for b, text in zip(blocks, texts, strict=True)
        ]
        return json.dumps({"blocks": answer}, ensure_ascii=False)

    def _content(self, messages: list[dict[str, Any]], json_output: bool) -> tuple[str, str]:
        user_texts = [str(m.get("content") or "") for m in messages if m.get("role") == "user"]
        tag, text = "text", user_texts[-1] if user_texts else ""
        for candidate in reversed(user_texts):  # a corrective retry repeats no page: look back
            match = _TAG.search(candidate)
            if match:
                tag, text = match.group(1), match.group(2).strip()
                break
        if json_output and tag == "document":
            return json.dumps(_cited_summary(text), ensure_ascii=False), tag
        if json_output:
            language = "es" if _SPANISH_HINTS.search(text) else "en"
            prompt = next((t for t in user_texts if "<page>" in t), "")
            (text,) = self._apply_glossary(prompt, [text], "page")
            return (
                json.dumps(
                    {
                        "legal_english": f"LEGAL EN: {text}",
                        "plain_english": f"PLAIN EN: {text}",
                        "detected_language": language,
                    },
                    ensure_ascii=False,
                ),
                tag,
            )
        words = text.split()[:_SUMMARY_WORDS]
        return f"SUMMARY({tag}): {' '.join(words)}", tag

    def _apply_glossary(self, prompt: str, texts: list[str], kind: str) -> list[str]:
        """Each glossary line of ``prompt`` applied to each of ``texts`` (a whole-word,
        case-insensitive replacement), except the terms told to be missed by requests of
        ``kind`` (one miss per request, however many texts carry the term)."""
        for source, target in _GLOSSARY_LINE.findall(prompt):
            with self._lock:
                misses = self._miss_glossary[kind]
                left = misses.get(source.casefold(), 0)
                if left > 0:
                    misses[source.casefold()] = left - 1
                    continue
            pattern = rf"\b{re.escape(source)}\w*"
            texts = [re.sub(pattern, target, text, flags=re.IGNORECASE) for text in texts]
        return texts


def _cited_summary(document: str) -> dict[str, Any]:
    blocks = [
        (int(number), " ".join(body.split()))
        for number, body in _PAGE_BLOCK.findall(document)
        if body.strip()
    ]
    overview = [
        {"text": f"Page {n} says: {' '.join(body.split()[:8])}", "pages": [n]} for n, body in blocks
    ]
    facts: list[dict[str, Any]] = [
        {
            "category": "dates",
            "text": f"A fact from page {n}",
            "page": n,
            "quote": " ".join(body.split()[:8]),
        }
        for n, body in blocks
    ]
    wrong = (
        " ".join(blocks[-1][1].split()[-8:])
        if len(blocks) > 1
        else "el arrendador renuncia a cobrar la renta durante diez años"
    )
    facts.append(
        {"category": "amounts", "text": "A fact cited on the wrong page", "page": 1, "quote": wrong}
    )
    return {"overview": overview, "facts": facts}


class _Handler(BaseHTTPRequestHandler):
    server_fake: FakeOpenAI
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test): nothing to do

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            return {"_raw": raw.decode("utf-8", errors="replace")}

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        fake = self.server_fake
        if path == "/_requests":
            self._send(200, {"requests": fake.requests})
        elif path == "/_health":
            self._send(200, {"ok": True})
        elif path in ("/v1/models", "/models"):
            self._send(200, {"object": "list", "data": [{"id": fake.model, "object": "model"}]})
        else:
            self._send(404, {"error": {"message": f"No route {path}", "type": "not_found"}})

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0]
        fake = self.server_fake
        body = self._body()
        if path == "/_control":
            self._send(200, fake.control(body if isinstance(body, dict) else {}))
            return
        if path not in ("/v1/chat/completions", "/chat/completions"):
            self._send(404, {"error": {"message": f"No route {path}", "type": "not_found"}})
            return
        headers = {name.lower(): value for name, value in self.headers.items()}
        answer = fake.answer(body if isinstance(body, dict) else {}, headers, path)
        if answer is None:
            self.close_connection = True  # "drop": no answer at all
            return
        status, extra_headers, payload = answer
        self._send(status, payload, extra_headers)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--pid-file", type=Path, help="write the process id here")
    parser.add_argument("--url-file", type=Path, help="write the base URL here")
    parser.add_argument("--fail", default="", help="faults for the first calls, e.g. 429,500")
    parser.add_argument("--down", type=int, default=None, help="every call fails with this")
    parser.add_argument("--delay-seconds", type=float, default=0.0)
    args = parser.parse_args(argv)
    faults: list[Fault] = [
        int(item) if item.strip().isdigit() else item.strip()
        for item in args.fail.split(",")
        if item.strip()
    ]
    fake = FakeOpenAI(
        args.host, args.port, fail=faults, down=args.down, delay_seconds=args.delay_seconds
    )
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    fake.start()
    try:
        if args.pid_file:
            args.pid_file.write_text(f"{os.getpid()}\n")
        if args.url_file:
            args.url_file.write_text(f"{fake.base_url}\n")
        print(fake.base_url, flush=True)
        stop.wait()
    finally:
        fake.stop()
        for written in (args.pid_file, args.url_file):
            if written is not None:
                written.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
