"""Applying: applications, self-assessment with evidence, submission, returns."""
