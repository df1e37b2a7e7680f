# flopwise images, built from the repository root (README.md, "Deploying the container").
#   docker build -t flopwise .                      # the service (no torch): the last stage
#   docker run -p 8000:8000 -v flopwise-data:/data flopwise
#   docker build --target trainer -t flopwise-trainer .   # + torch (CUDA), runs calibrations
# Offline (air-gapped builders): make a wheelhouse where the package index is reachable,
# put it in the build context and name it; pip then installs from it with no index:
#   pip wheel ".[postgres]" -w wheels            # ".[train,postgres]" for the trainer
#   docker build --build-arg WHEELS=wheels -t flopwise .
# Or from a mirror of the index: docker build --build-arg PIP_INDEX_URL=https://.../simple .
# The wheels must match the images' Python (3.11) and platform (e.g. x86_64 Linux).
# Each image installs into a virtual environment in a build stage and copies only that, so
# neither the sources nor the wheelhouse end up in a layer.
# Settings come from FLOPWISE_* variables (FLOPWISE_DATABASE_URL, FLOPWISE_API_KEY, ...).

# ---- shared stages: the build environment, and the runtime every image starts from.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY . .
RUN python -m venv /opt/venv

FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MPLCONFIGDIR=/tmp/matplotlib \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    FLOPWISE_HOST=0.0.0.0 \
    FLOPWISE_PORT=8000 \
    FLOPWISE_DATA_DIR=/data
RUN useradd --uid 10001 --no-create-home --home-dir /data flopwise \
    && mkdir -p /data \
    && chown flopwise /data
USER flopwise
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('FLOPWISE_PORT', '8000') + '/healthz', timeout=4)"]
CMD ["flopwise", "serve"]

# ---- trainer: the service plus the [train] extra (torch) so POST /v1/calibrations can run
# sweeps on the GPUs given to the container (docker run --gpus all ...). The torch wheels
# for Linux carry CUDA and cuDNN themselves (the nvidia-* wheels); the container needs only
# the host's driver, which the NVIDIA container toolkit mounts. So the trainer builds on the
# same base as the service, with no apt step, and offline from one wheelhouse.
# Its stages come before the service's: the default target is the last stage.
FROM build AS trainer-build
# WHEELS: a folder of wheels in the build context; empty: install from the package index,
# PIP_INDEX_URL: PyPI, or a mirror of it.
ARG WHEELS=
ARG PIP_INDEX_URL=https://pypi.org/simple
RUN if [ -n "$WHEELS" ]; then \
        /opt/venv/bin/pip install --no-index --find-links "$WHEELS" "flopwise[train,postgres]"; \
    else \
        /opt/venv/bin/pip install ".[train,postgres]"; \
    fi

FROM runtime AS trainer
ENV NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
COPY --from=trainer-build /opt/venv /opt/venv

# ---- service: the API with its in-process refit worker; no torch.
FROM build AS service-build
ARG WHEELS=
ARG PIP_INDEX_URL=https://pypi.org/simple
RUN if [ -n "$WHEELS" ]; then \
        /opt/venv/bin/pip install --no-index --find-links "$WHEELS" "flopwise[postgres]"; \
    else \
        /opt/venv/bin/pip install ".[postgres]"; \
    fi

FROM runtime AS service
COPY --from=service-build /opt/venv /opt/venv
