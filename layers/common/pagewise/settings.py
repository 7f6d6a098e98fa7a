"""Settings as validated models, built once per cold start by the handlers.

Logic never reads ``os.environ``: a handler calls ``XxxSettings.from_environment()`` at import
time and passes the model (or the clients built from it) down.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pagewise.documents.cost import DEFAULT_PRICES, ModelPrice
from pagewise.documents.language import SHIPPED_TESSERACT_LANGUAGES


def _empty_is_unset(value: str | None) -> str | None:
    # CloudFormation parameters cannot be null: an empty string means "not set".
    return value or None


class _EnvironmentSettings(BaseModel):
    model_config = ConfigDict(populate_by_name=True, frozen=True, extra="ignore")

    @classmethod
    def from_environment(cls, environment: Mapping[str, str] | None = None) -> Self:
        return cls.model_validate(dict(os.environ if environment is None else environment))


class StoreSettings(_EnvironmentSettings):
    """Where job state and files live: every function needs these."""

    mongodb_uri: str = Field(alias="MONGODB_URI", min_length=1)
    mongodb_database: str = Field(default="pagewise", alias="MONGODB_DATABASE")
    uploads_bucket: str = Field(alias="UPLOADS_BUCKET", min_length=3)
    mongodb_timeout_ms: int = Field(default=5000, alias="MONGODB_TIMEOUT_MS", gt=0)
    # DocumentDB: the CA bundle its TLS certificates chain to (AWS's global-bundle.pem), as
    # s3://bucket/key, given by the deployer (MongoDbCaBundleS3Uri). Unset: the system's CAs.
    mongodb_tls_ca_s3_uri: str | None = Field(
        default=None, alias="MONGODB_TLS_CA_S3_URI", pattern=r"^(s3://[^/]+/.+)?$"
    )
    # Where a job's final compare-and-set posts {job_id} for the notify function (any function
    # may end a job: ingest, the API, every pipeline state). Unset: no notifications.
    notifications_queue_url: str | None = Field(default=None, alias="NOTIFICATIONS_QUEUE_URL")

    _unset_queue = field_validator("notifications_queue_url", "mongodb_tls_ca_s3_uri")(
        _empty_is_unset
    )


class JwtSettings(_EnvironmentSettings):
    # Algorithms come from here only, never from a token's header.
    algorithms: list[str] = Field(alias="JWT_ALGORITHMS", min_length=1)
    secret: str | None = Field(default=None, alias="JWT_SECRET")
    jwks_url: str | None = Field(default=None, alias="JWT_JWKS_URL")
    issuer: str = Field(alias="JWT_ISSUER", min_length=1)
    audience: str = Field(alias="JWT_AUDIENCE", min_length=1)
    leeway_seconds: int = Field(default=30, alias="JWT_LEEWAY_SECONDS", ge=0, le=300)

    @field_validator("algorithms", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("algorithms")
    @classmethod
    def _no_none(cls, value: list[str]) -> list[str]:
        if any(algorithm.lower() == "none" for algorithm in value):
            raise ValueError("the 'none' algorithm is never accepted")
        return value

    @model_validator(mode="after")
    def _one_key_source_per_algorithm_family(self) -> Self:
        # HS* verify with the shared secret, RS*/ES*/PS* with the JWKS keys. Mixing the families
        # is how HS/RS confusion attacks work (an RSA public key used as an HMAC secret), so a
        # configuration that allows it is refused at start-up.
        symmetric = {algorithm.upper().startswith("HS") for algorithm in self.algorithms}
        if symmetric == {True, False}:
            raise ValueError("JWT_ALGORITHMS mixes HMAC (HS*) with public-key algorithms")
        if True in symmetric and not self.secret:
            raise ValueError("HS* algorithms need JWT_SECRET")
        if False in symmetric and not self.jwks_url:
            raise ValueError("RS*/ES*/PS* algorithms need JWT_JWKS_URL")
        return self


class ApiSettings(StoreSettings):
    state_machine_arn: str = Field(alias="STATE_MACHINE_ARN", min_length=1)
    upload_max_bytes: int = Field(default=50 * 1024 * 1024, alias="UPLOAD_MAX_BYTES", gt=0)
    upload_expiry_seconds: int = Field(default=900, alias="UPLOAD_EXPIRY_SECONDS", gt=0)
    download_expiry_seconds: int = Field(default=300, alias="DOWNLOAD_EXPIRY_SECONDS", gt=0)
    # API Gateway sends a binary body base64-encoded, and a synchronous Lambda payload is
    # capped at 6 MB: about 4.4 MB of file. Larger files take the presigned POST.
    one_shot_max_bytes: int = Field(
        default=4 * 1024 * 1024, alias="ONE_SHOT_MAX_BYTES", gt=0, le=4_400_000
    )
    region: str = Field(default="us-east-1", alias="AWS_REGION")
    max_request_bytes: int = Field(default=6 * 1024 * 1024, alias="MAX_REQUEST_BYTES", gt=0)
    # The web page's "get a dev token" helper (POST /api/v1/dev/tokens mints HS256 tokens with
    # JWT_SECRET). template.yaml sets it on the local stack only; never enable it in AWS.
    local_dev_tokens: bool = Field(default=False, alias="LOCAL_DEV_TOKENS")
    # callback_url may be http://127.0.0.1 or localhost: the local stack only (SSRF guard).
    allow_local_callbacks: bool = Field(default=False, alias="ALLOW_LOCAL_CALLBACKS")
    # RetentionDays: jobs expire this many days after creation (0: never).
    retention_days: int = Field(default=0, alias="RETENTION_DAYS", ge=0)
    # Fair use (template MaxActiveJobsPerTenant): jobs not yet final per tenant, awaiting
    # upload included; beyond it POST answers 429 too_many_active_jobs with Retry-After.
    max_active_jobs_per_tenant: int = Field(default=10, alias="MAX_ACTIVE_JOBS_PER_TENANT", ge=1)


class IngestSettings(StoreSettings):
    state_machine_arn: str = Field(alias="STATE_MACHINE_ARN", min_length=1)
    upload_max_bytes: int = Field(default=50 * 1024 * 1024, alias="UPLOAD_MAX_BYTES", gt=0)


class PipelineSettings(StoreSettings):
    # The OCR engine's traineddata directory; unset (always, in the template) means the OCR
    # layer's own tessdata/ (pagewise.documents.ocr.engine). Never the host's.
    ocr_data_dir: str | None = Field(default=None, alias="OCR_DATA_DIR")
    # The Tesseract packs a page's language is chosen from (one pack: always that one).
    ocr_languages: str = Field(default=SHIPPED_TESSERACT_LANGUAGES, alias="OCR_LANGUAGES")
    ocr_dpi: int = Field(default=300, alias="OCR_DPI", ge=200, le=600)
    # Bad-input limits: a document with more pages, or a page whose raster would have more
    # pixels (a decompression bomb), fails with too_many_pages / page_too_large.
    max_pages: int = Field(default=500, alias="MAX_PAGES", ge=1)
    max_page_pixels: int = Field(default=150_000_000, alias="MAX_PAGE_PIXELS", ge=1_000_000)
    font_dir: str | None = Field(default=None, alias="FONT_DIR")
    # The offline provider's Apertium data directory, as the ``apertium`` script reads it;
    # unset: the installation's own (/usr/share/apertium for /usr/bin/apertium).
    apertium_datadir: str | None = Field(default=None, alias="APERTIUM_DATADIR")
    # Apertium pairs kept running between calls per process (documents/apertium_warm.py:
    # 177 MB RSS each, about 90 MB of it its own; a sixth of the CPU per call); 0: a fresh
    # run per call.
    apertium_warm_pipelines: int = Field(default=2, alias="APERTIUM_WARM_PIPELINES", ge=0, le=8)
    # The LLM: any OpenAI-compatible server. No model configured means the offline provider.
    llm_model: str = Field(default="", alias="LLM_MODEL")
    llm_base_url: str | None = Field(default=None, alias="LLM_BASE_URL")
    # The key: from the environment (local stack), else a Secrets Manager secret or an SSM
    # SecureString parameter (AWS), read once per container and cached.
    llm_api_key: str | None = Field(default=None, alias="LLM_API_KEY", repr=False)
    llm_api_key_secret: str | None = Field(default=None, alias="LLM_API_KEY_SECRET_ARN")
    llm_api_key_parameter: str | None = Field(default=None, alias="LLM_API_KEY_PARAMETER")
    # Per HTTP attempt. With one client retry and the longest Retry-After the client honours
    # (120 s), one call stays under the translate function's 240 s timeout.
    llm_timeout_seconds: float = Field(default=50, alias="LLM_TIMEOUT_SECONDS", gt=0, le=100)
    # The client's own retries stay small: Step Functions retries with backoff and jitter.
    llm_max_retries: int = Field(default=1, alias="LLM_MAX_RETRIES", ge=0, le=3)
    llm_max_context_tokens: int = Field(default=100_000, alias="LLM_MAX_CONTEXT_TOKENS", ge=1_000)
    # USD per million tokens, per model, for the cost estimate and the usage: JSON such as
    # {"gpt-4o-mini": {"input": 0.15, "output": 0.6}}, merged over DEFAULT_PRICES.
    llm_prices: dict[str, ModelPrice] = Field(
        default_factory=lambda: dict(DEFAULT_PRICES), alias="LLM_PRICES"
    )

    _unset = field_validator(
        "llm_base_url",
        "llm_api_key",
        "llm_api_key_secret",
        "llm_api_key_parameter",
        "apertium_datadir",
    )(_empty_is_unset)

    @field_validator("llm_prices", mode="before")
    @classmethod
    def _prices(cls, value: object) -> object:
        if isinstance(value, str):
            value = json.loads(value) if value.strip() else {}
        if isinstance(value, dict):
            return {**DEFAULT_PRICES, **value}
        return value

    @property
    def llm_enabled(self) -> bool:
        return bool(self.llm_model.strip())


class NotifySettings(StoreSettings):
    """The notify function: email through SES, webhooks signed with a secret."""

    # SES sender; must be a verified identity (the local stack's deploy verifies it).
    from_email: str | None = Field(default=None, alias="NOTIFY_FROM_EMAIL")
    # Links in the email and the webhook body point at the public API.
    public_api_url: str = Field(alias="PUBLIC_API_URL", min_length=1)
    # The webhook signing secret: the environment (local stack), else a Secrets Manager secret
    # or an SSM SecureString parameter (AWS), read once per container and cached.
    webhook_secret: str | None = Field(default=None, alias="WEBHOOK_SECRET", repr=False)
    webhook_secret_arn: str | None = Field(default=None, alias="WEBHOOK_SECRET_ARN")
    webhook_secret_parameter: str | None = Field(default=None, alias="WEBHOOK_SECRET_PARAMETER")
    allow_local_callbacks: bool = Field(default=False, alias="ALLOW_LOCAL_CALLBACKS")
    # The whole of one webhook call (connect, send, the answer's status and headers), by the
    # wall clock: a receiver that drips its answer byte by byte is cut off at this deadline.
    webhook_timeout_seconds: float = Field(default=10, alias="WEBHOOK_TIMEOUT_SECONDS", gt=0, le=20)
    # The messages of one batch are delivered at once, on this many threads, so that one slow
    # receiver never holds another tenant's notification (BatchSize is 10).
    delivery_concurrency: int = Field(default=10, alias="NOTIFY_CONCURRENCY", ge=1, le=50)
    # A failed delivery comes back after base * 2^(receive count - 1) seconds, at most max.
    retry_base_seconds: int = Field(default=30, alias="NOTIFY_RETRY_BASE_SECONDS", ge=0, le=900)
    retry_max_seconds: int = Field(default=900, alias="NOTIFY_RETRY_MAX_SECONDS", ge=0, le=43200)

    _unset = field_validator(
        "from_email", "webhook_secret", "webhook_secret_arn", "webhook_secret_parameter"
    )(_empty_is_unset)
