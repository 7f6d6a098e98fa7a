"""OcrPage state: Text of one page: its text layer when usable, else Tesseract (in process)."""

# The OCR layer's engine (tesserocr) loads at cold start: a function deployed without the
# layer fails here with Runtime.ImportModuleError, as it would in AWS, not at its first scan.
import pagewise.documents.ocr  # noqa: F401
from pagewise.events import PagePointer
from pagewise.observability import record_page_read, step_handler
from pagewise.outputs import PageRead
from pagewise.wiring import pipeline_from_environment

pipeline = pipeline_from_environment()


@step_handler(PagePointer)
def handler(pointer: PagePointer) -> PageRead:
    page = pipeline.ocr_page(pointer.job_id, pointer.page)
    record_page_read(page)
    return page
