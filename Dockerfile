# The service image: web (`ivr serve`) and worker (`ivr worker`) run from it.
FROM python:3.11-slim
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ffmpeg espeak-ng sox \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY ivr ivr
COPY callflows callflows
COPY recordings recordings
COPY callback callback
COPY migrations migrations
RUN pip install --no-cache-dir -e .
ENV IVR_VAR_DIR=/var/lib/ivr
VOLUME /var/lib/ivr
EXPOSE 5000
CMD ["ivr", "serve", "--host", "0.0.0.0", "--port", "5000"]
