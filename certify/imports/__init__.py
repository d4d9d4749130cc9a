"""Importing candidates from a city's summary sheet (汇总表): one row per organisation and
subject, each row checked, the valid ones created as organisations, draft applications and
invited contacts, the others returned in a workbook that says what to correct."""
