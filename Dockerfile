# syntax=docker/dockerfile:1
#
# One image for every ConHub target. The command picks what runs:
#   docker run conhub                                   # all twelve targets in one process (gateway on 8000)
#   docker run conhub start --target auth-service       # one target (what docker-compose.yml does)
#   docker run conhub migrate                           # apply pending migrations, then exit
# The launcher (cli/bin/conhub.mjs) registers tsx and runs the TypeScript
# sources directly, so there is no compile step besides the dashboard's
# static export.

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS base
WORKDIR /app
ENV NEXT_TELEMETRY_DISABLED=1 \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false

# --- manifests: only what `npm ci` reads, so the dependency layer below is
# rebuilt when a package.json or the lockfile changes, not on every source edit.
FROM base AS manifests
COPY . /src
RUN mkdir /manifests \
 && cd /src \
 && find . -type f \( -name package.json -o -name package-lock.json -o -name .npmrc \) \
      -not -path "*/node_modules/*" -exec cp --parents {} /manifests/ \; \
 && cp --parents scripts/prepare-frontend.mjs /manifests/

# --- deps: every workspace's dependencies, native modules (better-sqlite3)
# compiled for this image.
FROM base AS deps
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY --from=manifests /manifests/ ./
# The root `prepare` script (the dashboard build) needs the sources: it runs in
# the next stage. onnxruntime-node, if present, must not download anything.
RUN --mount=type=cache,target=/root/.npm \
    CONHUB_SKIP_FRONTEND_BUILD=1 ONNXRUNTIME_NODE_INSTALL=skip npm ci

# --- build: the sources, and the dashboard's static export (frontend/out).
FROM deps AS build
COPY . .
RUN node scripts/prepare-frontend.mjs \
 && test -f frontend/out/index.html \
 && rm -rf frontend/.next/cache

# --- runtime
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    CONHUB_HOST=0.0.0.0 \
    CONHUB_DATA_DIR=/data \
    NEXT_TELEMETRY_DISABLED=1
WORKDIR /app
# The application stays owned by root (read-only for the service); only the
# data directory belongs to the unprivileged `node` user. Named volumes mounted
# on /data start with this ownership.
RUN mkdir -p /data && chown node:node /data
COPY --from=build /app /app
USER node
VOLUME ["/data"]
# 8000: the one-process gateway (GATEWAY_PORT); then every target's seed port.
EXPOSE 8000 3000 3004 3005 3006 3007 3010 3011 3012 3013 3014 3015 8080
# Fits the default command (all targets, gateway on GATEWAY_PORT). A container
# running one target gets its own healthcheck from docker-compose.yml.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.GATEWAY_PORT||8000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "cli/bin/conhub.mjs"]
CMD ["start"]
