"""Lookout's HTTP API (FastAPI). ``lookout.api.app.create_app(runtime)`` builds the app."""
