# Megafon: one image, two commands. Web (default) and worker:
#   docker run IMAGE                      → gunicorn serving the web app on :8000
#   docker run IMAGE megafon worker       → a publishing worker (run as many as you like)
# Configure with MEGAFON_* variables (see README); production uses PostgreSQL.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    MALLOC_ARENA_MAX=2 \
    MEGAFON_INSTANCE_PATH=/var/lib/megafon

# WeasyPrint (the report as PDF) draws text with Pango; DejaVu has å, ä and ö.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
       libharfbuzz0b fonts-dejavu-core postgresql-client \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md babel.cfg ./
COPY core ./core
COPY publisher ./publisher
COPY monitor ./monitor
COPY reports ./reports
COPY campaigns ./campaigns
COPY web ./web
COPY schedules ./schedules
COPY sandbox ./sandbox
COPY cli ./cli
RUN pip install --no-cache-dir "Babel>=2.14" \
    && pybabel compile -d web/translations -D messages \
    && pip install --no-cache-dir . \
    && useradd --system --home /var/lib/megafon megafon \
    && mkdir -p /var/lib/megafon && chown megafon /var/lib/megafon

USER megafon
EXPOSE 8000
# The web container's health; point an uptime monitor at /healthz/publishing for the workers.
HEALTHCHECK --interval=30s --timeout=5s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"
CMD ["sh", "-c", "megafon db upgrade && exec gunicorn --bind 0.0.0.0:8000 --workers 2 --threads 4 --access-logfile - web.wsgi:app"]
