# Multi-stage: dependencies (from the lock file, with hashes) in their own layer, then the app;
# runs as an unprivileged numeric user.
FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m venv /opt/marquee
COPY requirements.lock ./
RUN /opt/marquee/bin/pip install --no-cache-dir --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY bot bot
COPY services services
COPY worker worker
COPY migrations migrations
RUN /opt/marquee/bin/pip install --no-cache-dir --no-deps --no-build-isolation .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 marquee \
    && mkdir -p /var/lib/marquee && chown 10001 /var/lib/marquee
COPY --from=build /opt/marquee /opt/marquee
ENV PATH=/opt/marquee/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    MARQUEE_DATA_DIR=/var/lib/marquee \
    WEB_HOST=0.0.0.0 \
    WEB_PORT=8080 \
    METRICS_PORT=9108
USER 10001
WORKDIR /home/marquee
EXPOSE 8080 9108
# Liveness, not readiness: a Redis or database blip must not restart a process that still serves.
# `run` and `web` answer on WEB_PORT, `bot` and `worker` on METRICS_PORT.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s CMD ["python", "-c", "import os, sys, urllib.request\nfor port in (os.environ['WEB_PORT'], os.environ['METRICS_PORT']):\n    try:\n        urllib.request.urlopen(f'http://127.0.0.1:{port}/health/live', timeout=2)\n        sys.exit(0)\n    except OSError:\n        pass\nsys.exit(1)"]
ENTRYPOINT ["marquee"]
CMD ["run"]
