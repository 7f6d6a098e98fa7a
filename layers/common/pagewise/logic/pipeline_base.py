"""What every pipeline state shares: the repositories, the settings, the LLM client made
once per container, and the two ways a state stops (the job gone or failed, or a failure)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NoReturn

from pagewise.data.jobs import JobRepository
from pagewise.data.pages import PageRepository
from pagewise.data.results import ResultRepository
from pagewise.data.storage import DocumentStore
from pagewise.logic.errors import JobFailed
from pagewise.models import ErrorCode, Job, JobStatus
from pagewise.settings import PipelineSettings

if TYPE_CHECKING:
    from pagewise.documents.llm import LlmConfig, LlmTranslator


@dataclass
class PipelineBase:
    settings: PipelineSettings
    jobs: JobRepository
    pages: PageRepository
    results: ResultRepository
    store: DocumentStore
    # Builds the LLM configuration when a state first needs it (reading the API key is a
    # Secrets Manager call in AWS); returns None when no LLM is configured: offline provider.
    llm_config: Callable[[], LlmConfig | None] = field(default=lambda: None)
    _translator: LlmTranslator | None = field(default=None, init=False, repr=False)
    _llm_checked: bool = field(default=False, init=False, repr=False)

    def _llm(self) -> LlmTranslator | None:
        """One LLM client per container, created on first use (importing openai takes ~2 s)."""
        if not self._llm_checked:
            config = self.llm_config()
            if config is not None:
                from pagewise.documents.llm import LlmTranslator

                self._translator = LlmTranslator(config)
            self._llm_checked = True
        return self._translator

    # -- helpers ---------------------------------------------------------------------------

    def _job(self, job_id: str) -> Job:
        job = self.jobs.get(job_id)
        if job is None:
            raise JobFailed(ErrorCode.INTERNAL_ERROR, f"Job {job_id} does not exist.")
        if job.processing_status == JobStatus.FAILED:
            # Cancelled or failed elsewhere: stop the execution instead of doing more work.
            raise JobFailed(job.error_code or ErrorCode.INTERNAL_ERROR, job.error_message or "")
        if job.processing_status == JobStatus.COMPLETED:
            # A stale or duplicate execution: it must not redo pages or rewrite results. The
            # MarkFailed its failure leads to cannot touch a completed job either.
            raise JobFailed(ErrorCode.INTERNAL_ERROR, f"Job {job_id} is already completed.")
        return job

    def _fail(
        self, job_id: str, error_code: str, message: str, cause: BaseException | None = None
    ) -> NoReturn:
        """Mark the job failed, then stop the execution: JobFailed is not retried."""
        self.jobs.fail(job_id, error_code, message)
        raise JobFailed(error_code, message) from cause
