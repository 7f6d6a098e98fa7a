"""Finish state: Marks the job completed."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from pagewise.events import JobPointer
from pagewise.observability import metrics, record_job_completed, tracer
from pagewise.wiring import pipeline_from_environment

logger = Logger()
pipeline = pipeline_from_environment()


@logger.inject_lambda_context(correlation_id_path="job_id")
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    pointer = JobPointer.model_validate(event)
    result = pipeline.finish(pointer.job_id)
    if result.completed_now:  # a retried Finish must not count the job twice
        record_job_completed()
    return result.model_dump(mode="json")
