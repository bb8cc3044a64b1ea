# exsync: API and worker images (same image, different command).
# The build stage installs everything, type-checks and bundles (`npm run build` -> dist/); the
# production stage installs the production dependencies only (`npm ci --omit=dev`) and runs the
# bundle with plain node. The build stage doubles as the development image (`target: build` in
# docker-compose.yml runs the simulators).

FROM node:22-bookworm-slim AS build
ENV TZ=UTC
WORKDIR /app
# Manifests first, so the dependency layer is reused until they change.
COPY package.json package-lock.json ./
COPY packages/calendar/package.json packages/calendar/
COPY packages/canonical/package.json packages/canonical/
COPY packages/config/package.json packages/config/
COPY packages/db/package.json packages/db/
COPY packages/entra-sim/package.json packages/entra-sim/
COPY packages/ews-client/package.json packages/ews-client/
COPY packages/ews-sim/package.json packages/ews-sim/
COPY packages/graph-client/package.json packages/graph-client/
COPY packages/graph-sim/package.json packages/graph-sim/
COPY packages/http-guard/package.json packages/http-guard/
COPY packages/mail-sim/package.json packages/mail-sim/
COPY packages/mailbox-monitor/package.json packages/mailbox-monitor/
COPY packages/sync-engine/package.json packages/sync-engine/
COPY services/api/package.json services/api/
COPY services/worker/package.json services/worker/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

FROM node:22-bookworm-slim AS production
ENV NODE_ENV=production TZ=UTC
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/packages/calendar/package.json packages/calendar/
COPY --from=build /app/packages/canonical/package.json packages/canonical/
COPY --from=build /app/packages/config/package.json packages/config/
COPY --from=build /app/packages/db/package.json packages/db/
COPY --from=build /app/packages/entra-sim/package.json packages/entra-sim/
COPY --from=build /app/packages/ews-client/package.json packages/ews-client/
COPY --from=build /app/packages/ews-sim/package.json packages/ews-sim/
COPY --from=build /app/packages/graph-client/package.json packages/graph-client/
COPY --from=build /app/packages/graph-sim/package.json packages/graph-sim/
COPY --from=build /app/packages/http-guard/package.json packages/http-guard/
COPY --from=build /app/packages/mail-sim/package.json packages/mail-sim/
COPY --from=build /app/packages/mailbox-monitor/package.json packages/mailbox-monitor/
COPY --from=build /app/packages/sync-engine/package.json packages/sync-engine/
COPY --from=build /app/services/api/package.json services/api/
COPY --from=build /app/services/worker/package.json services/worker/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY migrations ./migrations

USER node
EXPOSE 3000
# Listen on all interfaces inside the container; the compose file publishes the port.
ENV HOST=0.0.0.0 PORT=3000
# The worker: `node --enable-source-maps dist/worker.js`; migrations: `node dist/migrate.js`.
CMD ["node", "--enable-source-maps", "dist/api.js"]
