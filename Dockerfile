# syntax=docker/dockerfile:1
# sendonce worker image. Two stages: `build` compiles TypeScript and prebuilds the workflow bundle (so the
# worker does not run webpack at start and every replica runs identical workflow code); the runtime stage
# has production dependencies and compiled output only, and runs as the unprivileged `node` user.
# Build: docker build -t sendonce .        Run: see docker-compose.yml and README "Production".

FROM node:20.19-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts ./scripts
RUN npx tsc -p tsconfig.build.json \
 && cp -r src/db/migrations dist/src/db/migrations \
 && cp -r src/lock/lua dist/src/lock/lua \
 && node --import tsx scripts/bundle-workflows.ts dist/workflow-bundle.js \
 && npm prune --omit=dev

FROM node:20.19-bookworm-slim AS runtime
ENV NODE_ENV=production \
    WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js \
    METRICS_PORT=9464 \
    HEALTH_PORT=9465
WORKDIR /app
COPY --from=build --chown=root:root /app/package.json ./package.json
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
# Code is owned by root and read-only for the process; the worker writes nothing to disk.
USER node
EXPOSE 9464 9465
# Ready = the Temporal worker is RUNNING and Postgres answers (src/health.ts). Node 20 has fetch; no curl needed.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.HEALTH_PORT||9465)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Memory: a 64 MB young generation (V8's default is 16) lets the in-flight sends' buffers die young instead of
# being promoted, and a 384 MB old generation makes V8 collect before it grows: RSS stays flat (~460 MB) over any
# number of recipients instead of a 470–650 MB sawtooth (BENCHMARKS.md). Same flags as package.json's `worker`
# script. Raise --max-old-space-size (compose: NODE_OPTIONS) if your jobs' recipients are large.
ENV NODE_OPTIONS="--max-semi-space-size=64 --max-old-space-size=384"
# SIGTERM drains in-flight sends (SHUTDOWN_GRACE_MS); node runs as PID 1 and handles signals itself.
CMD ["node", "dist/src/worker.js"]
