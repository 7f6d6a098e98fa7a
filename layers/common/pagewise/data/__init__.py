"""Data access: the only modules that talk to MongoDB, S3 and Step Functions."""
