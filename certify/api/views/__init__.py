"""The API's endpoints (``public``) and the administrators' pages for API keys (``keys``)."""
