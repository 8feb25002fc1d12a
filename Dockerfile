# One image, three roles:
#   web:    docker run IMAGE                       (gunicorn on :8000)
#   worker: docker run IMAGE python manage.py qcluster
#   follower: docker run IMAGE python manage.py studio_follow   (one or more)
# Configure with DATABASE_URL, REDIS_URL, SECRET_KEY, ALLOWED_HOSTS, STUDIO_PUBLIC_URL,
# VIDU_API_KEY and the AWS_* media settings (see docs/deploying.md).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 STUDIO_DATA_DIR=/data
WORKDIR /app

COPY pyproject.toml README.md ./
COPY studio ./studio
RUN pip install --no-cache-dir ".[s3]"

COPY manage.py ./
COPY templates ./templates
COPY static ./static
RUN SECRET_KEY=build-only python manage.py collectstatic --noinput

RUN useradd --create-home studio && mkdir -p /data && chown studio /data
USER studio
EXPOSE 8000
CMD ["sh", "-c", "python manage.py migrate --noinput && exec gunicorn studio.wsgi:application --bind 0.0.0.0:8000 --worker-class gthread --threads 8 --workers ${WEB_CONCURRENCY:-2} --keep-alive 10 --access-logfile - --logger-class studio.logs.AccessLog"]
