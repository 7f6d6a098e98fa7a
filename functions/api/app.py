"""ApiFunction: the FastAPI app behind API Gateway (REST), through Mangum."""

from typing import Any

from aws_lambda_powertools import Logger
from mangum import Mangum
from mangum.types import LambdaContext
from pagewise.observability import tracer
from pagewise_api.main import create_app

# The access log's logger (pagewise_api.middleware): same service, so the same keys.
logger = Logger(service="pagewise-api")
asgi = Mangum(create_app(), lifespan="off")


# capture_response off: responses carry presigned URLs, which must not reach the traces.
@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return asgi(event, context)
