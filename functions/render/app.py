"""Render state: The translated PDF and the job's ai_extracted_content."""

from pagewise.events import JobPointer
from pagewise.observability import step_handler
from pagewise.outputs import Rendered
from pagewise.wiring import pipeline_from_environment

pipeline = pipeline_from_environment()


@step_handler(JobPointer, flush_metrics=False)
def handler(pointer: JobPointer) -> Rendered:
    return pipeline.render(pointer.job_id)
