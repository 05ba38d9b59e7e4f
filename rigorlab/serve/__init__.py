"""`rigorlab serve`: an OpenAI-compatible chat server for any local model (FastAPI + uvicorn)."""
