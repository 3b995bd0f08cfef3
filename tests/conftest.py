import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(autouse=True)
def fresh_streamlit_caches():
    """Each test starts with empty st.cache_data / st.cache_resource, as a fresh server would."""
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    yield
