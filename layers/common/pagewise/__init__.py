"""Pagewise's shared package: models, settings, data access and the domain logic.

Layout (thin handlers -> logic -> data access):

- ``models``: the job, its statuses and the page results, as pydantic models;
- ``settings``: validated settings, built once per cold start from the environment;
- ``data``: the only modules that talk to MongoDB, S3 and Step Functions;
- ``logic``: what each function does, knowing nothing of Lambda or HTTP;
- ``documents``: pure document processing (PyMuPDF, Tesseract, reportlab).
"""
