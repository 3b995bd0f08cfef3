"""Unsupervised Lab's engine: models, data, training, metrics. Never imports streamlit.

Submodules import TensorFlow lazily where they can, so that `core.data`, `core.i18n` and
`core.pretrained.status()` stay cheap enough for the home page.
"""
