"""BenchHelloFunction: the baseline for API latency figures (local stack only).

A bare FastAPI app through Mangum, on the same runtime, layer and API Gateway as ApiFunction
but with no token check, no MongoDB and no S3: what is left of a request's time is the
gateway, the Lambda invoke and the framework. Pagewise's own cost is the difference.
"""

from fastapi import FastAPI
from mangum import Mangum

app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)


@app.api_route("/bench/hello", methods=["GET", "POST"])
def hello() -> dict[str, str]:
    return {"hello": "world"}


handler = Mangum(app, lifespan="off")
