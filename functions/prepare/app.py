"""Prepare state: Count the pages of the upload and hand the Map one pointer per page."""

from pagewise.events import JobPointer
from pagewise.observability import step_handler
from pagewise.outputs import Prepared
from pagewise.wiring import pipeline_from_environment

pipeline = pipeline_from_environment()


@step_handler(JobPointer, flush_metrics=False)
def handler(pointer: JobPointer) -> Prepared:
    return pipeline.prepare(pointer.job_id)
