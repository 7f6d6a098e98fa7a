"""OcrPage state: Text of one page: its text layer when usable, else Tesseract (in process)."""

from typing import Any

# The OCR layer's engine (tesserocr) loads at cold start: a function deployed without the
# layer fails here with Runtime.ImportModuleError, as it would in AWS, not at its first scan.
import pagewise.documents.ocr  # noqa: F401
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from pagewise.events import PagePointer
from pagewise.observability import metrics, record_page_read, tracer
from pagewise.wiring import pipeline_from_environment

logger = Logger()
pipeline = pipeline_from_environment()


@logger.inject_lambda_context(correlation_id_path="job_id")
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    pointer = PagePointer.model_validate(event)
    result = pipeline.ocr_page(pointer.job_id, pointer.page)
    record_page_read(result.source, result.ocr_seconds)
    return result.model_dump(mode="json")
