"""Tiers: the city bureaus' pre-review and recommendation to the province, and the province's
national recommendation package with its guard (docs/tiers.md).

- ``models``: the city bureau's decisions (``CityReview``); ``permissions``: who may pre-review
  and whether an application waits for it; ``services``: recommend or return;
- ``bureaus``: the 21 city bureaus (``flask tiers cities``);
- ``guard``: a candidate's key indicators against the listed units' average (pure rules);
- ``national``: the candidates, the guard's figures and the package (summary.xlsx and PDFs).
"""
