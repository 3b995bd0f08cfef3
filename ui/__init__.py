"""Streamlit helpers shared by the pages: the deep-link guard, cached model access, the background
warm-up, serving tweaks and the server-wide job cap. Imports core, never pages."""
