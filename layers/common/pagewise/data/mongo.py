"""One MongoDB client per cold start, and the indexes every query relies on.

MongoDB Atlas and Amazon DocumentDB both work; docs/documentdb.md lists every MongoDB feature
the code uses against DocumentDB's documented support.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import boto3
from pymongo import ASCENDING, DESCENDING, MongoClient
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import ConnectionFailure, OperationFailure

from pagewise.settings import StoreSettings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

LOG = logging.getLogger(__name__)

# The field each retained collection expires on (RetentionDays); a document without it stays.
EXPIRES_AT = "expires_at"
_PEM_CERTIFICATE = b"-----BEGIN CERTIFICATE-----"


def _is_documentdb(uri: str) -> bool:
    hosts = urlsplit(uri).netloc.rpartition("@")[2]
    return ".docdb." in hosts or ".docdb-elastic." in hosts


def client_options(uri: str, tls_ca_file: str | None) -> dict[str, Any]:
    """What the client adds to the URI: the deployer's CA bundle (which implies TLS) and, for a
    DocumentDB host whose URI does not say, ``retryWrites=false`` (DocumentDB before 8.0.2
    refuses retryable writes; every write here is safe to repeat by hand, see
    docs/documentdb.md).

    Reads always go to the primary, whatever the URI says (AWS's sample DocumentDB URIs say
    ``secondaryPreferred``): one function reads what another has just written (the pages Render
    reads, the counters each page raises), and a lagging replica would drop a page.
    """
    options: dict[str, Any] = {"readPreference": "primary"}
    if tls_ca_file:
        options["tlsCAFile"] = tls_ca_file
    if _is_documentdb(uri) and "retrywrites=" not in uri.lower():
        options["retryWrites"] = False
    return options


@cache
def database(
    uri: str, name: str, timeout_ms: int = 5000, tls_ca_file: str | None = None
) -> Database:
    client: MongoClient = MongoClient(
        uri,
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        tz_aware=True,
        **client_options(uri, tls_ca_file),
    )
    return client[name]


def ca_bundle_file(s3_uri: str, s3: S3Client | None = None, directory: Path | None = None) -> str:
    """The CA bundle at ``s3://bucket/key`` as a local file, fetched once per container."""
    bucket, _, key = s3_uri.removeprefix("s3://").partition("/")
    digest = hashlib.sha256(s3_uri.encode()).hexdigest()[:16]
    path = (directory or Path(tempfile.gettempdir())) / f"pagewise-ca-{digest}.pem"
    if not path.exists():
        body = (s3 or boto3.client("s3")).get_object(Bucket=bucket, Key=key)["Body"].read()
        if _PEM_CERTIFICATE not in body:
            raise ValueError(f"{s3_uri} is not a PEM CA bundle")
        partial = path.with_suffix(".partial")
        partial.write_bytes(body)
        partial.replace(path)  # never a half-written bundle, even with concurrent cold starts
    return str(path)


def database_for(settings: StoreSettings) -> Database:
    ca_file = (
        ca_bundle_file(settings.mongodb_tls_ca_s3_uri) if settings.mongodb_tls_ca_s3_uri else None
    )
    return database(
        settings.mongodb_uri, settings.mongodb_database, settings.mongodb_timeout_ms, ca_file
    )


def _index(collection: Collection, keys: list[tuple[str, int]], **options: Any) -> None:
    try:
        collection.create_index(keys, **options)
    except OperationFailure:
        # Data that breaks a unique index, or an index of that name with other options: the
        # service still runs (each query works, slower), and the error is logged to be fixed.
        LOG.exception("index %s on %s could not be created", keys, collection.name)


def ensure_indexes(db: Database) -> None:
    """Idempotent; SecantusDB is slow at collection scans, so every query has an index.

    The API calls it at cold start (it creates every job, so the indexes exist before any
    other function reads one). MongoDB out of reach: logged, and the next cold start tries
    again; the API still starts and answers (its health check says what is down).
    """
    try:
        # The job list's order and cursor: (created_at, _id), newest first.
        _index(
            db.original_files,
            [("tenant", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
        )
        # The fair-use count of a tenant's jobs not yet final (JobRepository.count_active).
        _index(
            db.original_files,
            [("tenant", ASCENDING), ("processing_status", ASCENDING), ("created_at", ASCENDING)],
        )
        _index(db.page_results, [("job_id", ASCENDING), ("page", ASCENDING)], unique=True)
        _index(db.ai_extracted_content, [("document_id", ASCENDING)], unique=True)
        _index(db.glossaries, [("tenant", ASCENDING), ("name", ASCENDING)], unique=True)
        # Retention: a job, its pages and its result each go at their expires_at (the job's).
        for collection in (db.original_files, db.page_results, db.ai_extracted_content):
            _index(collection, [(EXPIRES_AT, ASCENDING)], expireAfterSeconds=0)
    except ConnectionFailure:
        LOG.exception("MongoDB is out of reach: indexes not checked")
