"""TranslatePage state: Legal and plain English of one page.

The same function runs PlanTranslation (``{"job_id", "plan": true}``) once the pages are read:
it has the LLM settings the cost estimate needs (docs/legal-features.md)."""

from pagewise.events import TranslationStep
from pagewise.observability import record_llm_usage, step_handler
from pagewise.outputs import PageTranslated, Planned
from pagewise.wiring import pipeline_from_environment

pipeline = pipeline_from_environment()


@step_handler(TranslationStep)
def handler(step: TranslationStep) -> PageTranslated | Planned:
    if step.plan:
        return pipeline.plan_translation(step.job_id)
    result = pipeline.translate_page(step.job_id, step.require_page())
    record_llm_usage(result.prompt_tokens, result.completion_tokens)
    return result
