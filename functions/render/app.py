"""Render state: The translated PDF and the job's ai_extracted_content."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from pagewise.events import JobPointer
from pagewise.observability import tracer
from pagewise.wiring import pipeline_from_environment

logger = Logger()
pipeline = pipeline_from_environment()


@logger.inject_lambda_context(correlation_id_path="job_id")
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    pointer = JobPointer.model_validate(event)
    return pipeline.render(pointer.job_id).model_dump(mode="json")
