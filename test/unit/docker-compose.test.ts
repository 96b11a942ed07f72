/**
 * Docker cannot run on these machines, so the compose file is checked against the code: every
 * platform service has a container started with a SERVICES value the code knows, every variable the
 * containers set is read by the code, every dependency names a service of the file.
 */
import fs from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { SERVICE_NAMES } from "../../schemas";

const root = path.join(__dirname, "..", "..");
const compose = parse(fs.readFileSync(path.join(root, "docker-compose.yml"), "utf8"), { merge: true }) as {
  services: Record<
    string,
    { image?: string; environment?: Record<string, string>; depends_on?: Record<string, unknown>; build?: string; ports?: string[]; volumes?: string[]; healthcheck?: { test: string[] } }
  >;
  volumes: Record<string, unknown>;
};

/** Every environment variable name the platform's own code reads. */
function variablesReadByCode(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith(".ts")) {
        for (const m of fs.readFileSync(full, "utf8").matchAll(/\benv\.([A-Z][A-Z0-9_]+)|\(env, "([A-Z][A-Z0-9_]+)"/g)) names.add(m[1] ?? m[2]!);
      }
    }
  };
  for (const dir of ["lib", "services", "mixins", "bin"]) walk(path.join(root, dir));
  for (const m of fs.readFileSync(path.join(root, "moleculer.config.ts"), "utf8").matchAll(/env\.([A-Z][A-Z0-9_]+)/g)) names.add(m[1]!);
  return names;
}

describe("docker-compose.yml", () => {
  const platformContainers = Object.entries(compose.services).filter(([, s]) => s.environment?.SERVICES);

  it("runs every platform service in a container of its own, built from the Dockerfile", () => {
    expect(platformContainers.map(([, s]) => s.environment!.SERVICES).sort()).toEqual([...SERVICE_NAMES].sort());
    for (const [, s] of platformContainers) expect(s.build).toBe(".");
    expect(fs.existsSync(path.join(root, "Dockerfile"))).toBe(true);
  });

  it("sets only variables the code reads", () => {
    const read = variablesReadByCode();
    const set = new Set(platformContainers.flatMap(([, s]) => Object.keys(s.environment!)));
    expect([...set].filter((v) => !read.has(v))).toEqual([]);
    expect(read.has("KAFKA_BROKERS") && read.has("MONGO_URI") && read.has("TRANSPORTER")).toBe(true);
  });

  it("points the platform at Kafka, MongoDB, NATS and QuestDB of the file, which it waits for", () => {
    for (const [name, s] of platformContainers) {
      expect(s.environment!.KAFKA_BROKERS).toBe("kafka:9092");
      expect(s.environment!.MONGO_URI).toMatch(/^mongodb:\/\/mongo:27017\//);
      expect(s.environment!.TRANSPORTER).toBe("nats://nats:4222");
      // The PostgreSQL wire port of the questdb service, with QuestDB's default credentials and database.
      expect(s.environment!.QUESTDB_URL).toBe("postgresql://admin:quest@questdb:8812/qdb");
      for (const dep of Object.keys(s.depends_on ?? {})) expect(Object.keys(compose.services)).toContain(dep);
      // Only ingestion opens the market data store: it starts once QuestDB listens.
      expect(Object.keys(s.depends_on ?? {}).sort()).toEqual(name === "ingestion" ? ["kafka", "mongo", "nats", "questdb"] : ["kafka", "mongo", "nats"]);
    }
    expect(compose.services.ingestion!.depends_on!.questdb).toEqual({ condition: "service_healthy" });
    expect(compose.services.kafka!.healthcheck).toBeDefined();
    expect(compose.services.mongo!.healthcheck).toBeDefined();
  });

  it("checks the gateway's readiness and every other service's liveness on a port the process serves", () => {
    const probed = (name: string) => compose.services[name]!.healthcheck!.test.join(" ").match(/fetch\('http:\/\/localhost:(\d+)(\/[^']*)'\)/);
    for (const [name, s] of platformContainers) {
      const [, port, route] = probed(name) ?? [];
      if (name === "gateway") {
        expect([port, route]).toEqual([s.environment!.PORT, "/api/health"]);
      } else {
        // Moleculer's Prometheus reporter answers there as long as the process runs.
        expect([port, route]).toEqual([s.environment!.METRICS_PORT, "/metrics"]);
      }
    }
  });

  it("runs QuestDB, the market data store, at the version of scripts/infra/questdb.sh, with its data on a volume", () => {
    const script = fs.readFileSync(path.join(root, "scripts", "infra", "questdb.sh"), "utf8");
    const version = /^QUESTDB_VERSION=\$\{QUESTDB_VERSION:-([0-9.]+)\}$/m.exec(script)?.[1];
    const questdb = compose.services.questdb!;
    expect(questdb.image).toBe(`questdb/questdb:${version}`);
    // The image's root directory: tables, WAL and configuration survive a container's replacement.
    expect(questdb.volumes).toEqual(["questdb-data:/var/lib/questdb"]);
    expect(Object.keys(compose.volumes)).toContain("questdb-data");
    expect(questdb.healthcheck!.test[0]).toBe("CMD-SHELL");
  });

  it("publishes the gateway and has partitions for scaled consumers", () => {
    expect(compose.services.gateway!.ports).toEqual(["${PORT:-3000}:3000"]);
    expect(compose.services.gateway!.healthcheck).toBeDefined();
    // `--scale features=3` needs at least 3 partitions per topic.
    expect(Number(compose.services.features!.environment!.TOPIC_PARTITIONS)).toBeGreaterThanOrEqual(3);
  });
});
