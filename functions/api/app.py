"""ApiFunction: the FastAPI app behind API Gateway (REST), through Mangum."""

from mangum import Mangum
from pagewise_api.main import create_app

handler = Mangum(create_app(), lifespan="off")
