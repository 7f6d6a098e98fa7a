"""The outputs that keep the source's pages: the overlay PDF, the searchable original, the Word
document and the page previews (the report PDF is pagewise.documents.render)."""
