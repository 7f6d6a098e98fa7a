"""MarkFailed: the Catch of every state, and the EventBridge rule for timed-out or aborted
executions, end here: the job is marked failed with an error code and a readable message."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from pagewise.events import FailureEvent
from pagewise.wiring import pipeline_from_environment

logger = Logger()
pipeline = pipeline_from_environment()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    failure = FailureEvent.parse(event)
    logger.append_keys(correlation_id=failure.job_id)
    logger.warning("job failed", extra={"error": failure.error, "page": failure.page})
    return pipeline.mark_failed(failure.job_id, failure.error, failure.cause, page=failure.page)
