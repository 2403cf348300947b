"""Streamlit-side helpers shared by app.py and app_pages/: session state, cached resources, jobs, charts."""
