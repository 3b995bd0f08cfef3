# Unsupervised Lab in a container: the app, its shipped weights and test digits, nothing else.
#   docker build -t unsupervised-lab .
#   docker run --rm -p 8501:8501 unsupervised-lab          → http://localhost:8501
# Several behind HAProxy: compose.yaml (see README, "Deploy").

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ── 1. The requirements, into a virtual environment. Wheels only: no compiler is needed, here or later.
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /venv
COPY requirements.txt /tmp/requirements.txt
RUN /venv/bin/pip install --only-binary=:all: -r /tmp/requirements.txt

# ── 2. The image: the environment from stage 1, Graphviz for the diagram downloads, the app as read-only files.
FROM ${PYTHON_IMAGE}
# Graphviz's `dot` renders the architectures page's SVG/PNG downloads (the page itself draws in the browser).
# DL3008 (pin apt versions) is off here: the base image's tag pins the Debian release, and an exact
# version pin would break the build whenever Debian replaces that version with a security update.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends graphviz \
 && rm -rf /var/lib/apt/lists/*
# The app runs as an unprivileged user that owns nothing of the app: only its home (Keras's and
# matplotlib's caches) is writable.
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin lab
COPY --from=build /venv /venv
WORKDIR /app
COPY . .
ENV PATH=/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    TF_CPP_MIN_LOG_LEVEL=2 \
    MPLBACKEND=Agg
# By number: Kubernetes' runAsNonRoot can check a numeric user without reading /etc/passwd (DL3066).
USER 10001
EXPOSE 8501
# Streamlit's own liveness endpoint; curl is not in the image, Python is.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).status != 200)"]
CMD ["streamlit", "run", "app.py", "--server.address=0.0.0.0", "--server.port=8501", "--server.headless=true"]
