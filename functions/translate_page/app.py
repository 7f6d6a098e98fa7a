"""TranslatePage state: Legal and plain English of one page."""

from pagewise.events import PagePointer
from pagewise.observability import record_llm_usage, step_handler
from pagewise.outputs import PageTranslated
from pagewise.wiring import pipeline_from_environment

pipeline = pipeline_from_environment()


@step_handler(PagePointer)
def handler(pointer: PagePointer) -> PageTranslated:
    result = pipeline.translate_page(pointer.job_id, pointer.page)
    record_llm_usage(result.prompt_tokens, result.completion_tokens)
    return result
