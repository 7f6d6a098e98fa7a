"""Pure document processing: file kinds, page counts, OCR, offline translation, summary, PDF.

Nothing here knows about AWS, MongoDB, Lambda or environment variables: every setting is an
argument. This module deliberately imports nothing, so that importing the light modules
(``errors``, ``kinds``, ``translate``, ``summary``) never pulls in PyMuPDF or reportlab; the
API function imports those and must keep a small cold start.
"""
