# One image for every service; SERVICES picks which ones a container runs (docker-compose.yml).
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build:dashboard --if-present && npm run typecheck

FROM node:22-bookworm-slim
ENV NODE_ENV=production DATA_DIR=/data PORT=3000 METRICS_PORT=3030
WORKDIR /app
COPY --from=build /app /app
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000 3030
CMD ["node", "--disable-warning=DEP0174", "--import", "tsx", "bin/start.ts"]
