# syntax=docker/dockerfile:1
# sendonce worker image. Two stages: `build` installs every dependency, compiles TypeScript and prebuilds the
# workflow bundle (deploy/build.sh: the worker runs no webpack at start and every replica runs identical workflow
# code), then drops the dev dependencies; the runtime stage copies production dependencies and compiled
# JavaScript only (no TypeScript loader, no embedded Postgres, no sources) and runs as the unprivileged `node` user.
# Build: docker build -t sendonce .        Run: see docker-compose.yml and docs/deploying.md.
#
# Node 24 ("Krypton"): an LTS line with security fixes until 2028-04-30 (Node 20 reached its end of life on
# 2026-04-30). The major.minor tag picks up patch releases on rebuild; 24.21 is the newest minor we know of.
# Both stages use the same base, so the native modules built or fetched by `npm ci` match the runtime.
FROM node:24.21-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
# Your own jobs module, compiled into the image (docs/deploying.md "Your jobs in the image"):
#   docker build --build-arg JOBS_MODULE=examples/weekly-report.ts -t sendonce .
# Any .ts file of the build context; its folder (templates included) is built with src/. Unset: the built-in jobs.
ARG JOBS_MODULE=""
# The whole build context (.dockerignore leaves out node_modules, dist, test, .git), so a jobs module can live
# anywhere in it; only what deploy/build.sh writes to dist reaches the runtime stage.
COPY . ./
RUN sh deploy/build.sh dist "$JOBS_MODULE" \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:24.21-bookworm-slim AS runtime
ARG JOBS_MODULE=""
# Set only when the image was built with a jobs module (dist/jobs.js re-exports it); empty = the built-in jobs.
ENV SENDONCE_JOBS_MODULE=${JOBS_MODULE:+/app/dist/jobs.js}
ENV NODE_ENV=production \
    WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js \
    METRICS_PORT=9464 \
    HEALTH_PORT=9465
WORKDIR /app
COPY --from=build --chown=root:root /app/package.json ./package.json
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
# The operator CLI (`docker compose exec worker node bin/sendonce.js runs`): it runs dist/src/cli when dist exists.
COPY --chown=root:root bin ./bin
# Code is owned by root and read-only for the process; the worker writes nothing to disk.
USER node
EXPOSE 9464 9465
# Ready = the Temporal worker is RUNNING and Postgres answers (src/health.ts). Node has fetch; no curl needed.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.HEALTH_PORT||9465)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Memory: a 64 MB young generation (V8's default is 16) lets the in-flight sends' buffers die young instead of
# being promoted, and a 384 MB old generation makes V8 collect before it grows: RSS stays flat (~460 MB) over any
# number of recipients instead of a 470–650 MB sawtooth (BENCHMARKS.md, measured on Node 20). Same flags as
# package.json's `worker` script. Raise --max-old-space-size (compose: NODE_OPTIONS) if your recipients are large.
# The SDK's workflow thread gets V8's default young generation instead (src/workflow-thread-memory.ts).
ENV NODE_OPTIONS="--max-semi-space-size=64 --max-old-space-size=384"
# SIGTERM drains in-flight sends (SHUTDOWN_GRACE_MS). docker-compose.yml runs the image with `init: true` (tini as
# PID 1 forwards signals and reaps); without an init node is PID 1 and the kernel drops any signal it has no handler
# for, so the worker installs its handler before its slow start-up steps (npm run rehearse checks both).
# The `schedules` service runs the same image with `node dist/src/schedule.js`.
CMD ["node", "dist/src/worker.js"]
