"""Cohort grades (企业绿码) of listed units from their self-declarations, and the park removal
rule (the bottom share of parks for several years in a row proposed for removal).

``ranking`` and ``removal`` are the pure rules; ``services`` grades a closed period and records
the department's removal decisions; ``views`` are the staff pages and the unit's own grades.
"""
