"""A LocalStack Lambda runtime executor that runs each execution environment as a host process.

LocalStack's free code runs Lambda functions only in Docker. This package speaks the same
protocol as LocalStack's Docker executor and its ``init`` binary (see
``localstack/services/lambda_/invocation/``), but starts ``bootstrap.py`` on a bare Python
interpreter instead of a container.
"""
