"""Finish state: Marks the job completed."""

from pagewise.events import JobPointer
from pagewise.observability import record_job_completed, step_handler
from pagewise.outputs import Finished
from pagewise.wiring import pipeline_from_environment

pipeline = pipeline_from_environment()


@step_handler(JobPointer)
def handler(pointer: JobPointer) -> Finished:
    result = pipeline.finish(pointer.job_id)
    if result.completed_now:  # a retried Finish must not count the job twice
        record_job_completed()
    return result
