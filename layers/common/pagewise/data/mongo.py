"""One MongoDB client per cold start, and the indexes every query relies on."""

from __future__ import annotations

from functools import cache

from pymongo import ASCENDING, DESCENDING, MongoClient
from pymongo.database import Database

from pagewise.settings import StoreSettings


@cache
def database(uri: str, name: str, timeout_ms: int = 5000) -> Database:
    # retryWrites is left to the URI: DocumentDB needs retryWrites=false and every write here
    # is a single-document conditional update that is safe to repeat.
    client: MongoClient = MongoClient(
        uri,
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        tz_aware=True,
    )
    return client[name]


def database_for(settings: StoreSettings) -> Database:
    return database(settings.mongodb_uri, settings.mongodb_database, settings.mongodb_timeout_ms)


def ensure_indexes(db: Database) -> None:
    """Idempotent; SecantusDB is slow at collection scans, so every query has an index."""
    db.original_files.create_index([("tenant", ASCENDING), ("created_at", DESCENDING)])
    db.page_results.create_index([("job_id", ASCENDING), ("page", ASCENDING)], unique=True)
    db.ai_extracted_content.create_index([("document_id", ASCENDING)], unique=True)
    db.glossaries.create_index([("tenant", ASCENDING), ("name", ASCENDING)], unique=True)
