"""Summarise state: The whole document's summary."""

from pagewise.events import JobPointer
from pagewise.observability import record_llm_usage, step_handler
from pagewise.outputs import Summarised
from pagewise.wiring import pipeline_from_environment

pipeline = pipeline_from_environment()


@step_handler(JobPointer)
def handler(pointer: JobPointer) -> Summarised:
    result = pipeline.summarise(pointer.job_id)
    record_llm_usage(result.prompt_tokens, result.completion_tokens)
    return result
