"""The studio: a local web page to make, watch and compare stylised pictures.

    python -m neural_style.studio [--port 8765] [--host 127.0.0.1] [--vgg-params PATH]    (or: make studio)

app.py: the web application (Starlette, served by uvicorn); runs.py: each run's state and the line of
runs waiting for a worker; worker.py: what runs in the worker processes (neural_style.api);
uploads.py: checking uploaded images from their header; static/: the page. docs/studio.md tells more.
"""
