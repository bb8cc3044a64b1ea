# exsync: API and worker images (same image, different command). Runs TypeScript with tsx, as in development.
FROM node:22-bookworm-slim

ENV NODE_ENV=production TZ=UTC
WORKDIR /app

# Manifests first, so the dependency layer is reused until they change.
COPY package.json package-lock.json tsconfig.json ./
COPY packages/canonical/package.json packages/canonical/
COPY packages/config/package.json packages/config/
COPY packages/db/package.json packages/db/
COPY packages/ews-client/package.json packages/ews-client/
COPY packages/entra-sim/package.json packages/entra-sim/
COPY packages/ews-sim/package.json packages/ews-sim/
COPY packages/sync-engine/package.json packages/sync-engine/
COPY services/api/package.json services/api/
COPY services/worker/package.json services/worker/
RUN npm ci --no-audit --no-fund && npm cache clean --force

COPY packages ./packages
COPY services ./services
COPY migrations ./migrations
COPY scripts ./scripts

USER node
EXPOSE 3000
# Listen on all interfaces inside the container; the compose file publishes the port.
ENV HOST=0.0.0.0 PORT=3000
CMD ["npm", "run", "start:api"]
