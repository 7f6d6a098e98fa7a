"""MarkFailed: the Catch of every state, and the EventBridge rule for timed-out or aborted
executions, end here: the job is marked failed with an error code and a readable message."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from pagewise.events import FailureEvent
from pagewise.observability import record_job_failed, tracer
from pagewise.wiring import pipeline_from_environment

logger = Logger()
pipeline = pipeline_from_environment()


# clear_state: the correlation id is set from the event below, not from a fixed path (an
# EventBridge event names the job in detail.name), so the last invocation's must not linger.
@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    failure = FailureEvent.parse(event)
    logger.set_correlation_id(failure.job_id)
    logger.warning("job failed", extra={"error": failure.error, "page": failure.page})
    result = pipeline.mark_failed(failure.job_id, failure.error, failure.cause, page=failure.page)
    # A failure reaches MarkFailed up to three times (page Catch, Map Catch, EventBridge):
    # counted on the first only.
    if result.first_report:
        record_job_failed(result.error_code)
    return result.model_dump(mode="json")
