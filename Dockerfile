# syntax=docker/dockerfile:1
# flopwise images.
#   docker build -t flopwise .                      # the service (no torch)
#   docker run -p 8000:8000 -v flopwise-data:/data flopwise
#   docker build --target trainer -t flopwise-trainer .   # + torch on CUDA, runs calibrations
# Settings come from FLOPWISE_* variables (FLOPWISE_DATABASE_URL, FLOPWISE_API_KEY, ...).

FROM python:3.11-slim AS service
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MPLCONFIGDIR=/tmp/matplotlib \
    FLOPWISE_HOST=0.0.0.0 \
    FLOPWISE_PORT=8000 \
    FLOPWISE_DATA_DIR=/data
WORKDIR /app
COPY pyproject.toml README.md ./
COPY fitting ./fitting
COPY service ./service
COPY trainer ./trainer
RUN pip install ".[postgres]" \
    && useradd --system --uid 10001 --no-create-home --home-dir /data flopwise \
    && mkdir -p /data \
    && chown flopwise /data
USER flopwise
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('FLOPWISE_PORT', '8000') + '/healthz', timeout=4)"]
CMD ["flopwise", "serve"]

# The same service with the trainer's [train] extra (torch) on a CUDA base, so
# POST /v1/calibrations can run sweeps on the GPUs given to the container
# (docker run --gpus all ...).
FROM nvidia/cuda:12.6.3-cudnn-runtime-ubuntu24.04 AS trainer
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MPLCONFIGDIR=/tmp/matplotlib \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    FLOPWISE_HOST=0.0.0.0 \
    FLOPWISE_PORT=8000 \
    FLOPWISE_DATA_DIR=/data
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv \
    && rm -rf /var/lib/apt/lists/* \
    && python3 -m venv /opt/venv
WORKDIR /app
COPY pyproject.toml README.md ./
COPY fitting ./fitting
COPY service ./service
COPY trainer ./trainer
RUN pip install ".[train,postgres]" \
    && useradd --system --uid 10001 --no-create-home --home-dir /data flopwise \
    && mkdir -p /data \
    && chown flopwise /data
USER flopwise
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('FLOPWISE_PORT', '8000') + '/healthz', timeout=4)"]
CMD ["flopwise", "serve"]
