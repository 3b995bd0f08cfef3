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


@pytest.fixture
def small_mnist(tmp_path):
    """A few hundred real digits as an mnist.npz for `--data`: the training command runs in seconds."""
    import numpy as np

    from core import data

    x, y = data.load_sample()
    path = tmp_path / "small.npz"
    np.savez(path, x_train=x[:256], y_train=y[:256], x_test=x[256:384], y_test=y[256:384])
    return path
