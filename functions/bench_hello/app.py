"""BenchHelloFunction: the baseline for API latency figures (local stack only).

A bare FastAPI app through Mangum, on the same runtime, layer and API Gateway as ApiFunction
but with no token check, no MongoDB and no S3: what is left of a request's time is the
gateway, the Lambda invoke and the framework. Pagewise's own cost is the difference. Traced
like ApiFunction, so the tracing overhead is in both figures.
"""

from typing import Any

from fastapi import FastAPI
from mangum import Mangum
from mangum.types import LambdaContext
from pagewise.observability import tracer

app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)


@app.api_route("/bench/hello", methods=["GET", "POST"])
def hello() -> dict[str, str]:
    return {"hello": "world"}


asgi = Mangum(app, lifespan="off")


@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return asgi(event, context)
