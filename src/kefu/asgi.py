"""ASGI entry point for uvicorn: `uvicorn kefu.asgi:app`."""

from kefu.app import create_app

app = create_app()
