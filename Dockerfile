# syntax=docker/dockerfile:1
# Agent Governance as a container: `docker compose up` (compose.yaml) or
#   docker build -t agent-governance . && docker run -p 3000:3000 -v agov-data:/data --read-only agent-governance
# test/packaging/package-install.test.ts performs the same steps without Docker (pack, install
# with production dependencies only, serve from a read-only tree) and must be kept in step.

ARG NODE_VERSION=20

# 1. Build: compile with the dev dependencies, then pack exactly what package.json `files` ships.
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# No scripts: `prepare` builds, and the sources are not here yet.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build && npm pack --ignore-scripts --pack-destination /tmp/pack

# 2. Install the pack with production dependencies only, pinned by the lockfile. Scripts are off
#    so that the package's own `prepare` (which needs TypeScript) does not run; better-sqlite3 is
#    then built alone: a prebuilt binary when one is published for this Node, else compiled.
FROM node:${NODE_VERSION}-bookworm-slim AS install
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /tmp/pack/ /tmp/pack/
COPY --from=build /src/package-lock.json /tmp/pack/
RUN tar -xzf /tmp/pack/agent-governance-*.tgz --strip-components=1 -C /app \
  && cp /tmp/pack/package-lock.json /app/ \
  && npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
  && npm rebuild better-sqlite3 \
  && npm cache clean --force

# 3. Runtime: no compilers, no dev dependencies, no npm at run time; owned by root, run as `node`.
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    LEDGER_PATH=/data/ledger.db \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
COPY --from=install /app /app
# The ledger, its -wal/-shm and the signing key are the only files the service writes: all in /data.
RUN mkdir -p /data && chown node:node /data && chmod 0700 /data
USER node
VOLUME ["/data"]
EXPOSE 3000
# Ready means the ledger can be written (503 otherwise); a degraded Redis, GitHub or Slack is 200.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/readyz').then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "/app/dist/src/cli/main.js"]
CMD ["serve"]
