"""Tracing and metrics: one Powertools Tracer and one Metrics for every function.

Only handlers record metrics: the domain logic returns the figures (seconds, tokens, error
codes) and the handler passes them to the ``record_*`` functions here, which write CloudWatch
embedded-metric-format lines to stdout (flushed by ``metrics.log_metrics`` on the handler, or
at once for ``single_metric``). Namespace ``Pagewise``; the ``service`` dimension comes from
``POWERTOOLS_SERVICE_NAME``.

Tracing is off outside a Lambda environment (Powertools checks ``LAMBDA_TASK_ROOT``), so the
unit tests and the CLI run the decorated code unchanged. Only boto3 (botocore) and pymongo
are patched: patching everything would also wrap http.client, which botocore uses, and record
every AWS call twice.
"""

from __future__ import annotations

import functools
import inspect
import os
import warnings
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics, Tracer, single_metric
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    from pagewise.outputs import PageRead

StepHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]

NAMESPACE = "Pagewise"

tracer = Tracer(patch_modules=("botocore", "pymongo"))
# The service dimension: POWERTOOLS_SERVICE_NAME (set on every function by the template),
# "pagewise" when a test or tool imports this without it.
metrics = Metrics(
    namespace=NAMESPACE, service=os.environ.get("POWERTOOLS_SERVICE_NAME", "pagewise")
)

# A state with nothing to count is normal (the offline provider uses no tokens, a retried
# Finish completes nothing): not worth Powertools' warning on every such invocation.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)


def record_page_read(page: PageRead) -> None:
    """One page read (OcrPage): counted by how it was read, and Tesseract's time if it ran."""
    # One page per invocation, so the source is one dimension value per flush: cheap.
    metrics.add_dimension(name="source", value=page.source)
    metrics.add_metric(name="PagesProcessed", unit=MetricUnit.Count, value=1)
    if page.source == "ocr" and page.ocr_seconds is not None:
        metrics.add_metric(name="OcrSeconds", unit=MetricUnit.Seconds, value=page.ocr_seconds)


def record_llm_usage(prompt_tokens: int, completion_tokens: int) -> None:
    """Tokens of the LLM calls of one state; nothing for the offline provider (no tokens)."""
    if prompt_tokens <= 0 and completion_tokens <= 0:
        return
    metrics.add_metric(name="LlmPromptTokens", unit=MetricUnit.Count, value=prompt_tokens)
    metrics.add_metric(name="LlmCompletionTokens", unit=MetricUnit.Count, value=completion_tokens)


def record_job_completed() -> None:
    metrics.add_metric(name="JobsCompleted", unit=MetricUnit.Count, value=1)


def record_job_failed(error_code: str) -> None:
    """One failed job, by error code. A metric of its own (flushed at once): an ingest batch
    can fail several jobs with different codes, and a dimension applies to a whole flush."""
    with single_metric(
        name="JobsFailed", unit=MetricUnit.Count, value=1, namespace=NAMESPACE
    ) as metric:
        metric.add_dimension(name="error_code", value=error_code)


def step_handler[PointerT: BaseModel](
    model: type[PointerT], *, flush_metrics: bool = True
) -> Callable[[Callable[[PointerT], BaseModel]], StepHandler]:
    """A state's Lambda handler from ``step(pointer) -> output``: the event is validated as
    ``model`` (the state's pointer), the job id is every log line's correlation id, the
    invocation is traced, the metrics the step records are flushed (``flush_metrics``), and
    the output model is returned as JSON."""

    def decorate(step: Callable[[PointerT], BaseModel]) -> StepHandler:
        @functools.wraps(step)
        def run(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
            return step(model.model_validate(event)).model_dump(mode="json")

        handler = metrics.log_metrics(run) if flush_metrics else run
        handler = tracer.capture_lambda_handler(handler)
        # The function's logger (service from POWERTOOLS_SERVICE_NAME), outermost as before.
        logger = Logger()
        return logger.inject_lambda_context(correlation_id_path="job_id")(handler)

    return decorate


def sqs_batch_handler(
    logger: Logger,
    record_handler: Callable[[SQSRecord], None] | Callable[[SQSRecord], Awaitable[None]],
) -> Callable[[dict[str, Any], LambdaContext], PartialItemFailureResponse]:
    """An SQS-triggered function's handler: each record of the batch through
    ``record_handler`` (an async one: the records at once), a record that raises reported
    alone (partial batch response) for SQS to retry, the others not. The logger's state is
    cleared at each batch: a record's correlation id never leaks into the next batch."""
    # Imported here: only the two SQS functions need the batch utilities.
    from aws_lambda_powertools.utilities.batch import (
        AsyncBatchProcessor,
        BatchProcessor,
        EventType,
        async_process_partial_response,
        process_partial_response,
    )

    def run(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
        if inspect.iscoroutinefunction(record_handler):
            return async_process_partial_response(
                event=event,
                record_handler=record_handler,
                processor=async_processor,
                context=context,
            )
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )

    processor = BatchProcessor(event_type=EventType.SQS)
    async_processor = AsyncBatchProcessor(event_type=EventType.SQS)
    handler = tracer.capture_lambda_handler(run)
    return logger.inject_lambda_context(clear_state=True)(handler)
