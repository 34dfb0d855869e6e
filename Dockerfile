# The image of every app node, consumer and the one-shot migration (compose.yaml,
# docs/SCALING.md). Official images only: node for the browser libraries, python for the app.

# Browser libraries (sigma.js, graphology, Swagger UI) are served from node_modules, exactly
# as `make setup` installs them: `npm ci --ignore-scripts`, nothing built.
FROM node:20-slim AS assets
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
# An editable install keeps the package where migrations/, node_modules/ and instance/ are
# looked for: next to it (referral/__init__.py, referral/admin/vendor.py, referral/tasks.py).
COPY pyproject.toml README.md wsgi.py babel.cfg ./
COPY migrations ./migrations
COPY referral ./referral
RUN pip install -e . \
    && pybabel compile -d referral/translations \
    && useradd --system --uid 10001 --home-dir /app referral \
    && mkdir instance && chown referral instance
COPY --from=assets /app/node_modules ./node_modules
USER referral
EXPOSE 8000
# A node behind the load balancer of deploy/nginx.conf, which passes each visitor's address by
# the PROXY protocol (docs/SCALING.md). Connections are not kept alive, so every request
# arrives with its visitor's address.
CMD ["gunicorn", "-w", "2", "-k", "gthread", "--threads", "4", "-b", "0.0.0.0:8000", \
     "--proxy-protocol", "--proxy-allow-from", "*", "--keep-alive", "0", \
     "--access-logfile", "-", "wsgi:app"]
