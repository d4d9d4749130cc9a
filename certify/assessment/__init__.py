"""Third-party assessment: agencies and assessors, conflict-of-interest checks, assignment,
scoring against the pinned rule file, and the evaluation report PDF."""
