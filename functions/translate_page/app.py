"""TranslatePage state: Legal and plain English of one page."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from pagewise.events import PagePointer
from pagewise.observability import metrics, record_llm_usage, tracer
from pagewise.wiring import pipeline_from_environment

logger = Logger()
pipeline = pipeline_from_environment()


@logger.inject_lambda_context(correlation_id_path="job_id")
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    pointer = PagePointer.model_validate(event)
    result = pipeline.translate_page(pointer.job_id, pointer.page)
    record_llm_usage(result.prompt_tokens, result.completion_tokens)
    return result.model_dump(mode="json")
