# syntax=docker/dockerfile:1
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

RUN useradd --create-home --uid 10001 shop
COPY --chown=shop:shop . .
# Uploaded product images when no S3 bucket is configured; a volume so they outlive the container.
RUN mkdir -p /app/media && chown shop:shop /app/media
VOLUME ["/app/media"]

# collectstatic needs settings that import cleanly; the build-time key is never used at run time.
RUN SECRET_KEY=collectstatic-only DEBUG=false python manage.py collectstatic --noinput

USER shop
EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--config", "gunicorn.conf.py"]
