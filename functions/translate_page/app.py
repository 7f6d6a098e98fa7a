"""TranslatePage state: Legal and plain English of one page.

The same function runs PlanTranslation (``{"job_id", "plan": true}``) once the pages are read:
it has the LLM settings the cost estimate needs."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from pagewise.events import JobPointer, PagePointer
from pagewise.observability import metrics, record_llm_usage, tracer
from pagewise.wiring import pipeline_from_environment

logger = Logger()
pipeline = pipeline_from_environment()


@logger.inject_lambda_context(correlation_id_path="job_id")
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("plan") is True:
        return pipeline.plan_translation(JobPointer.model_validate(event).job_id).model_dump(
            mode="json"
        )
    pointer = PagePointer.model_validate(event)
    result = pipeline.translate_page(pointer.job_id, pointer.page)
    record_llm_usage(result.prompt_tokens, result.completion_tokens)
    return result.model_dump(mode="json")
