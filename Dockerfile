# Multi-stage: build a wheel with its dependencies, run as an unprivileged user.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot bot
COPY services services
COPY worker worker
COPY migrations migrations
RUN python -m venv /opt/marquee \
    && /opt/marquee/bin/pip install --no-cache-dir --upgrade pip \
    && /opt/marquee/bin/pip install --no-cache-dir .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 marquee \
    && mkdir -p /var/lib/marquee && chown marquee /var/lib/marquee
COPY --from=build /opt/marquee /opt/marquee
ENV PATH=/opt/marquee/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    MARQUEE_DATA_DIR=/var/lib/marquee \
    WEB_HOST=0.0.0.0 \
    WEB_PORT=8080
USER marquee
WORKDIR /home/marquee
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8080/health', timeout=4)" || exit 1
ENTRYPOINT ["marquee"]
CMD ["run"]
