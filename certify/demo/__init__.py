"""Demonstration and volume data (``flask demo load [--scale N]``), made by the services.

- ``accounts``: the demo's accounts (administrator, agencies and assessors, applicants);
- ``builders``: an application in each state of the workflow, step by step through the services;
- ``public``: an announced batch with certificates and a batch under notice;
- ``casework``: work in progress: a self-assessment with a plausibility flag open, a zero-carbon
  pilot with its progress report, an application waiting for its city bureau;
- ``scale``: N applications in every state, copied in bulk from ones the builders made.

All demo accounts share the password ``certify-demo``. Organisation names are fictitious; their
credit codes are well formed (valid check characters) but belong to no real organisation.
"""

from certify.demo.accounts import ADMIN_EMAIL, DEMO_PASSWORD, load_demo
from certify.demo.casework import load_casework_demo
from certify.demo.public import load_public_demo

__all__ = ["ADMIN_EMAIL", "DEMO_PASSWORD", "load_casework_demo", "load_demo", "load_public_demo"]
