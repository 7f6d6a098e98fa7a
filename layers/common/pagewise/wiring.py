"""Builds the pipeline from settings: the one place that knows how the parts fit."""

from __future__ import annotations

from pagewise.data.jobs import JobRepository
from pagewise.data.mongo import database_for
from pagewise.data.pages import PageRepository
from pagewise.data.results import ResultRepository
from pagewise.data.storage import DocumentStore
from pagewise.logic.pipeline import Pipeline
from pagewise.settings import PipelineSettings


def pipeline_from_environment() -> Pipeline:
    settings = PipelineSettings.from_environment()
    db = database_for(settings)
    return Pipeline(
        settings=settings,
        jobs=JobRepository(db),
        pages=PageRepository(db),
        results=ResultRepository(db),
        store=DocumentStore(settings.uploads_bucket),
    )
