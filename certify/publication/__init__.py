"""Publication: decisions, batches for public notice, objections and announcement."""
