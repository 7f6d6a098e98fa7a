"""The API's routes, one module per family: health (and the docs page), jobs, history,
downloads (the PDF and the result). The web page's routes are in pagewise_api.webpage."""

API = "/api/v1"


def status_url(job_id: str) -> str:
    return f"{API}/jobs/{job_id}"
