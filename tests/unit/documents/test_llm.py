"""The LLM translator and summariser, with the real openai client against a local fake server."""

from __future__ import annotations

import json
import os
import pickle
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pagewise.documents.llm import (
    ALL_ERROR_NAMES,
    RETRYABLE_ERROR_NAMES,
    LlmBadRequest,
    LlmConfig,
    LlmError,
    LlmQuotaExceeded,
    LlmThrottled,
    LlmTranslator,
    LlmUnavailable,
    estimate_tokens,
    split_text,
)
from pagewise.documents.translate import PageTranslation

from tests.support.fake_openai import FakeOpenAI

REPO = Path(__file__).resolve().parents[3]
API_KEY = "sk-test-0123456789SECRETKEY"
PAGE = "El arrendatario pagará la renta al arrendador el primer día de cada mes."


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def fake(server: FakeOpenAI) -> FakeOpenAI:
    server.reset()
    return server


def make(fake: FakeOpenAI | None, **overrides: Any) -> LlmTranslator:
    settings: dict[str, Any] = {
        "model": "fake-model",
        "api_key": API_KEY,
        "base_url": fake.base_url if fake else None,
        "request_timeout_seconds": 2.0,
        "max_retries": 0,
    }
    settings.update(overrides)
    return LlmTranslator(LlmConfig(**settings))


def expected_prompt_tokens(request: dict[str, Any]) -> int:
    # The fake counts 4 characters per token over every message.
    return max(1, sum(len(m["content"]) for m in request["body"]["messages"]) // 4)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- translation -----------------------------------------------------------------------------


def test_page_is_translated_in_one_call_with_both_versions_and_tokens(fake: FakeOpenAI) -> None:
    with make(fake) as translator:
        result = translator.translate_page(PAGE, source_language="es", page_number=3)

    assert result.legal_english == f"LEGAL EN: {PAGE}"
    assert result.plain_english == f"PLAIN EN: {PAGE}"
    assert (result.provider, result.model, result.translated) == (
        "openai-compatible",
        "fake-model",
        True,
    )
    assert result.note == "Translated by fake-model (LLM)."
    assert result.detected_language == "es"
    [request] = fake.requests
    assert result.prompt_tokens == expected_prompt_tokens(request) > 0
    assert result.completion_tokens > 0

    body = request["body"]
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["authorization"] == f"Bearer {API_KEY}"
    assert body["model"] == "fake-model"
    assert "temperature" not in body  # some models reject any but the default
    system, user = body["messages"]
    assert system["role"] == "system" and "plain English" in system["content"]
    assert "Page 3" in user["content"] and "es (a hint" in user["content"]
    assert f"<page>\n{PAGE}\n</page>" in user["content"]
    response_format = body["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["strict"] is True
    schema = response_format["json_schema"]["schema"]
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"legal_english", "plain_english", "detected_language"}


def test_english_page_still_gets_a_plain_english_version(fake: FakeOpenAI) -> None:
    text = "The tenant shall indemnify the landlord against all claims."
    result = make(fake).translate_page(text, source_language=None, page_number=1)
    assert result.plain_english == f"PLAIN EN: {text}"
    assert result.detected_language == "en"
    user = fake.requests[0]["body"]["messages"][1]["content"]
    assert "Source language: unknown." in user


def test_blank_page_makes_no_call(fake: FakeOpenAI) -> None:
    result = make(fake).translate_page("  \n\t ", source_language="es", page_number=2)
    assert fake.requests == []
    assert (result.legal_english, result.plain_english, result.prompt_tokens) == ("", "", 0)
    assert result.note.startswith("No text on this page")


def test_json_object_mode_and_temperature(fake: FakeOpenAI) -> None:
    translator = make(fake, response_format="json_object", temperature=0.0)
    result = translator.translate_page(PAGE, source_language="spa", page_number=1)
    assert result.legal_english == f"LEGAL EN: {PAGE}"
    body = fake.requests[0]["body"]
    assert body["response_format"] == {"type": "json_object"}
    assert body["temperature"] == 0.0


def test_invalid_json_gets_one_corrective_retry(fake: FakeOpenAI) -> None:
    fake.fail_next("invalid_json")
    result = make(fake).translate_page(PAGE, source_language="es", page_number=1)
    assert result.legal_english == f"LEGAL EN: {PAGE}"
    first, second = fake.requests
    messages = second["body"]["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert "not valid JSON" in messages[-1]["content"]
    assert result.prompt_tokens == expected_prompt_tokens(first) + expected_prompt_tokens(second)


def test_invalid_json_twice_is_a_clear_bad_request(fake: FakeOpenAI) -> None:
    fake.fail_next("invalid_json", "invalid_json")
    with pytest.raises(LlmBadRequest) as caught:
        make(fake).translate_page(PAGE, source_language="es", page_number=7)
    assert caught.value.error_code == "llm_invalid_output"
    assert "page 7" in caught.value.message and "JSON" in caught.value.message
    assert len(fake.requests) == 2


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        ("truncated", "llm_invalid_output"),
        ("content_filter", "llm_content_filtered"),
        ("refusal", "llm_content_filtered"),
    ],
)
def test_unusable_answers(fake: FakeOpenAI, fault: str, code: str) -> None:
    fake.fail_next(fault)
    with pytest.raises(LlmBadRequest) as caught:
        make(fake).translate_page(PAGE, source_language="es", page_number=1)
    assert caught.value.error_code == code
    assert len(fake.requests) == 1


# --- errors ----------------------------------------------------------------------------------


def test_429_is_throttled(fake: FakeOpenAI) -> None:
    fake.fail_next(429)
    with pytest.raises(LlmThrottled) as caught:
        make(fake).translate_page(PAGE, source_language="es", page_number=1)
    error = caught.value
    assert error.error_code == "llm_throttled"
    assert str(error).startswith("llm_throttled: ")
    assert "HTTP 429" in error.message and "rate limit" in error.message
    assert len(fake.requests) == 1


def test_429_twice_then_success_within_the_client_retries(fake: FakeOpenAI) -> None:
    fake.fail_next(429, 429)
    result = make(fake, max_retries=2).translate_page(PAGE, source_language="es", page_number=1)
    assert result.translated is True
    assert [r["answer"] for r in fake.requests] == [429, 429, "ok"]


@pytest.mark.parametrize("max_retries", [0, 2])
def test_server_down_is_unavailable_after_exactly_max_retries_plus_one_requests(
    fake: FakeOpenAI, max_retries: int
) -> None:
    fake.set_down(500)
    with pytest.raises(LlmUnavailable) as caught:
        make(fake, max_retries=max_retries).translate_page(
            PAGE, source_language="es", page_number=1
        )
    assert caught.value.error_code == "llm_unavailable"
    assert "HTTP 500" in caught.value.message
    assert len(fake.requests) == max_retries + 1
    assert f"{max_retries + 1} attempt" in caught.value.message


def test_connection_refused_is_unavailable() -> None:
    translator = LlmTranslator(
        LlmConfig(
            model="m",
            api_key=API_KEY,
            base_url=f"http://127.0.0.1:{free_port()}/v1",
            request_timeout_seconds=1,
            max_retries=0,
        )
    )
    with pytest.raises(LlmUnavailable) as caught:
        translator.translate_page(PAGE, source_language="es", page_number=1)
    assert "Could not reach the LLM at 127.0.0.1:" in caught.value.message


def test_dropped_connection_is_unavailable(fake: FakeOpenAI) -> None:
    fake.fail_next("drop")
    with pytest.raises(LlmUnavailable):
        make(fake).translate_page(PAGE, source_language="es", page_number=1)


def test_timeout_is_unavailable_and_bounded(fake: FakeOpenAI) -> None:
    fake.fail_next({"delay": 3.0})
    started = time.monotonic()
    with pytest.raises(LlmUnavailable) as caught:
        make(fake, request_timeout_seconds=0.3).translate_page(
            PAGE, source_language="es", page_number=4
        )
    assert time.monotonic() - started < 2.0
    assert "did not answer for page 4 within 0.3 s" in caught.value.message


@pytest.mark.parametrize(
    ("fault", "code", "words"),
    [
        (400, "llm_bad_request", "HTTP 400"),
        (422, "llm_bad_request", "HTTP 422"),
        (401, "llm_auth_failed", "API key"),
        (403, "llm_auth_failed", "HTTP 403"),
        (404, "llm_bad_request", "no model 'fake-model'"),
        ({"status": 400, "code": "content_filter"}, "llm_content_filtered", "content filter"),
        ({"status": 400, "code": "context_length_exceeded"}, "llm_bad_request", "too long"),
    ],
)
def test_requests_a_retry_would_repeat_are_bad_requests(
    fake: FakeOpenAI, fault: Any, code: str, words: str
) -> None:
    fake.fail_next(fault)
    with pytest.raises(LlmBadRequest) as caught:
        make(fake).translate_page(PAGE, source_language="es", page_number=1)
    assert caught.value.error_code == code
    assert words in caught.value.message
    assert len(fake.requests) == 1


def test_api_key_never_appears_in_errors(fake: FakeOpenAI) -> None:
    # The fake's 401 body echoes the key, as some servers do.
    fake.fail_next(401)
    with pytest.raises(LlmBadRequest) as caught:
        make(fake).translate_page(PAGE, source_language="es", page_number=1)
    assert API_KEY not in str(caught.value)
    assert "[redacted]" in caught.value.message
    assert API_KEY not in repr(make(fake).config)


def test_an_exhausted_quota_is_retried_by_the_state_machine_not_failed_at_once(
    fake: FakeOpenAI,
) -> None:
    """One tenant's burst can spend the account's quota; other tenants' jobs then wait with
    backoff (the state machine's retrier for LlmQuotaExceeded) instead of failing at once."""
    fake.fail_next({"status": 429, "code": "insufficient_quota"})
    with pytest.raises(LlmQuotaExceeded) as caught:
        make(fake).translate_page(PAGE, source_language="es", page_number=1)
    assert not isinstance(caught.value, LlmBadRequest)
    assert caught.value.error_code == "llm_quota_exceeded"
    assert "quota" in caught.value.message
    assert "LlmQuotaExceeded" in RETRYABLE_ERROR_NAMES


def test_error_names_are_the_state_machine_contract() -> None:
    assert RETRYABLE_ERROR_NAMES == ("LlmThrottled", "LlmUnavailable", "LlmQuotaExceeded")
    assert ALL_ERROR_NAMES == (
        "LlmThrottled",
        "LlmUnavailable",
        "LlmQuotaExceeded",
        "LlmBadRequest",
    )
    for cls in (LlmThrottled, LlmUnavailable, LlmQuotaExceeded, LlmBadRequest):
        assert issubclass(cls, LlmError)
        error = cls("A message for a person.", "llm_custom")
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is cls
        assert (copy.error_code, copy.message) == ("llm_custom", "A message for a person.")
    assert LlmUnavailable("x").error_code == "llm_unavailable"


# --- configuration ---------------------------------------------------------------------------


def test_config_defaults_fit_a_lambda_and_validate() -> None:
    config = LlmConfig(model="gpt-4o-mini", api_key=API_KEY)
    assert config.effective_base_url == "https://api.openai.com/v1"
    assert config.provider_label == "openai"
    assert config.worst_case_call_seconds < 300
    assert LlmConfig(model="m", base_url="http://127.0.0.1:8000/v1").provider_label == (
        "openai-compatible"
    )
    assert LlmConfig(model="m", provider="azure").provider_label == "azure"
    for bad in (
        {"model": " "},
        {"model": "m", "request_timeout_seconds": 0},
        {"model": "m", "max_retries": 9},
        {"model": "m", "max_context_tokens": 1000},  # no room for two part summaries
        {"model": "m", "response_format": "text"},
    ):
        with pytest.raises(ValueError):
            LlmConfig(**bad)


def test_importing_the_module_does_not_import_openai() -> None:
    code = "import sys\nimport pagewise.documents.llm\nassert 'openai' not in sys.modules\n"
    env = {**os.environ, "PYTHONPATH": str(REPO / "layers" / "common")}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_split_text_keeps_pieces_within_budget() -> None:
    text = "\n\n".join(f"Paragraph {n}. " + "word " * 150 for n in range(6))
    pieces = split_text(text, 200)
    assert len(pieces) > 1
    assert all(estimate_tokens(piece) <= 200 for piece in pieces)
    assert " ".join("".join(pieces).split()) == " ".join(text.split())
    unbroken = "x" * 5000
    assert "".join(split_text(unbroken, 100)) == unbroken
    assert estimate_tokens("abc") == 1 and estimate_tokens("日本語") == 3


def test_translation_is_a_page_translation(fake: FakeOpenAI) -> None:
    assert isinstance(
        make(fake).translate_page("Hola.", source_language=None, page_number=1), (PageTranslation)
    )


# --- the fake server as a process (how the e2e tests run it) --------------------------------


def test_fake_server_runs_standalone(tmp_path: Path) -> None:
    pid_file = tmp_path / "fake.pid"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.fake_openai", "--pid-file", str(pid_file)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        assert pid_file.read_text().strip() == str(proc.pid)
        root = base_url.removesuffix("/v1")

        def post(path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
            request = urllib.request.Request(
                root + path,
                data=json.dumps(body).encode(),
                headers={"Content-Type": "application/json"},
            )
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    return response.status, json.load(response)
            except urllib.error.HTTPError as error:
                return error.code, json.load(error)

        assert post("/_control", {"fail": [503]})[1]["fail"] == [503]
        chat = {"model": "m", "messages": [{"role": "user", "content": "<document>Hi</document>"}]}
        status, body = post("/v1/chat/completions", chat)
        assert status == 503 and body["error"]["type"] == "server_error"
        status, body = post("/v1/chat/completions", chat)
        assert status == 200
        assert body["choices"][0]["message"]["content"] == "SUMMARY(document): Hi"
        with urllib.request.urlopen(root + "/_requests", timeout=5) as response:
            assert [r["answer"] for r in json.load(response)["requests"]] == [503, "ok"]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 0
    assert not pid_file.exists()
