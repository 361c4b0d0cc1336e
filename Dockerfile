# syntax=docker/dockerfile:1
#
# ride-cdc image: the worker, migrate, generate and the other CLI commands.
#
# Runs the TypeScript sources with tsx (a production dependency) instead of shipping a tsc build:
# the code reads files relative to its own location (mappings/, mart-sql/ via import.meta.dirname),
# which a dist/ layout would move, and the repo's own entry (bin/ride-cdc.js) runs src/ with tsx
# too (in-process, through tsx's loader), so there is one way to run the code. `ride-cdc` here is a
# two-line wrapper that execs `node --import tsx src/cli/main.ts`, so tini's SIGTERM reaches the
# worker's drain directly.
#
#   docker build -t ride-cdc:local .
#   docker run --rm ride-cdc:local ride-cdc --help
#   docker build --target check .      # optional: typecheck + unit tests inside the build
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# ── production node_modules ────────────────────────────────────────────────────────────────────
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# ── optional verification stage (not part of the runtime image) ──────────────────────────────
FROM ${NODE_IMAGE} AS check
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npx tsc -p tsconfig.json --noEmit && npx vitest run --project unit

# ── runtime ────────────────────────────────────────────────────────────────────────────────────
FROM ${NODE_IMAGE} AS runtime
# tini as PID 1: forwards SIGTERM to node and reaps zombies, also for commands (migrate, generate)
# that install no signal handler of their own (node as PID 1 would ignore SIGTERM).
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    METRICS_PORT=9464
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY mappings ./mappings
COPY mart-sql ./mart-sql
# The loader path is resolved once here (an absolute --import works from any working directory;
# a bare `--import tsx` resolves against the cwd).
RUN loader="$(node -p "require.resolve('tsx')")" \
 && printf '#!/bin/sh\n# ride-cdc CLI: TypeScript via tsx, in this process (signals reach the worker directly).\nexec node --import %s /app/src/cli/main.ts "$@"\n' "$loader" > /usr/local/bin/ride-cdc \
 && chmod 755 /usr/local/bin/ride-cdc
# The unprivileged user of the node image (uid 1000); the code and node_modules stay root-owned,
# read-only to it. tsx keeps its transform cache in /tmp.
USER node
EXPOSE 9464
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=4 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.METRICS_PORT||9464)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["ride-cdc", "worker"]
