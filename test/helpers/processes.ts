/**
 * Runs platform services as separate OS processes over NATS + Kafka + MongoDB + QuestDB, the way operators
 * run them (`SERVICES=<name> npm run start:services`), for the multi-process and fault tests.
 * Each process writes its output to a file, in CLUSTER_LOG_DIR when set (else a temporary folder).
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { deleteKafkaNamespace, dropQuestDbTables, infra, mongoUriFor, type Infra } from "./infra";
import { tempDataDir } from "./wait";

const root = path.join(__dirname, "..", "..");


export interface ServiceProcess {
  name: string;
  /** Its Moleculer node id: a call can target this process rather than a dead one the registry still lists. */
  nodeID: string;
  child: ChildProcess;
  logFile: string;
}

const tail = (file: string) => fs.readFileSync(file, "utf8").slice(-3000);

export interface Cluster {
  namespace: string;
  env: NodeJS.ProcessEnv;
  port: number;
  processes: ServiceProcess[];
  start(services: string, extraEnv?: NodeJS.ProcessEnv): Promise<ServiceProcess>;
  /** SIGKILL: a crash, no graceful shutdown. */
  kill(proc: ServiceProcess): Promise<void>;
  stopAll(): Promise<void>;
  /** A REST call with the operator's token, or the one given. */
  api(method: string, url: string, body?: unknown, token?: string): Promise<{ status: number; body: any }>;
}

let nextPort = 3400 + (process.pid % 500);

/** `servers`: where the cluster runs (default: the shared servers of test/global-setup.ts). */
export function createCluster(options: { config?: NodeJS.ProcessEnv; servers?: Infra } = {}): Cluster {
  const servers = options.servers ?? infra();
  const namespace = `mp${randomUUID().slice(0, 8)}`;
  const port = nextPort++;
  const dataDir = tempDataDir();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TRANSPORTER: servers.natsUrl,
    NAMESPACE: namespace,
    KAFKA_BROKERS: servers.kafkaBrokers.join(","),
    KAFKA_NAMESPACE: `${namespace}.`,
    MONGO_URI: mongoUriFor(namespace, servers),
    QUESTDB_URL: servers.questdbPgUrl,
    // Market data tables of this cluster's own on the shared server, dropped by stopAll.
    QUESTDB_TABLE_PREFIX: `${namespace}_`,
    DATA_DIR: dataDir,
    API_TOKEN: "mp-token",
    PORT: String(port),
    SIM_SPEED: "300",
    LOGLEVEL: "info",
    NODE_OPTIONS: "--disable-warning=DEP0174",
    ...options.config,
  };
  const processes: ServiceProcess[] = [];
  const logDir = process.env.CLUSTER_LOG_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), "tbp-cluster-"));

  const cluster: Cluster = {
    namespace,
    env,
    port,
    processes,
    async start(services, extraEnv = {}) {
      // Output goes straight to a file: a child writing to a pipe blocks (writes to pipes are
      // synchronous on Linux) whenever the test process is busy, and a blocked child misses heartbeats.
      const logFile = path.join(logDir, `${services.replace(/,/g, "+")}-${Date.now()}.log`);
      const fd = fs.openSync(logFile, "a");
      // One OS process per service (node with tsx's loader, not the tsx wrapper), so SIGKILL kills the service itself.
      const nodeID = `${services}-${randomUUID().slice(0, 4)}`;
      const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "bin", "start.ts")], {
        cwd: root,
        env: { ...env, SERVICES: services, NODE_ID: nodeID, ...extraEnv },
        stdio: ["ignore", fd, fd],
      });
      fs.closeSync(fd);
      const proc: ServiceProcess = { name: services, nodeID, child, logFile };
      processes.push(proc);
      const exited = new Promise<never>((_, reject) =>
        child.once("exit", (code) => reject(new Error(`${services} exited with ${code}:\n${tail(logFile)}`))),
      );
      exited.catch(() => undefined);
      const deadline = Date.now() + 90_000;
      const up = (async () => {
        while (!fs.readFileSync(logFile, "utf8").includes("platform up")) {
          if (Date.now() > deadline) throw new Error(`${services} did not start within 90 s:\n${tail(logFile)}`);
          await new Promise((r) => setTimeout(r, 200));
        }
      })();
      await Promise.race([up, exited]);
      return proc;
    },
    async kill(proc) {
      const exited = new Promise((resolve) => proc.child.once("exit", resolve));
      proc.child.kill("SIGKILL");
      await exited;
      processes.splice(processes.indexOf(proc), 1);
    },
    async stopAll() {
      await Promise.all(
        processes.map(
          (p) =>
            new Promise<void>((resolve) => {
              if (p.child.exitCode !== null) return resolve();
              const timer = setTimeout(() => p.child.kill("SIGKILL"), 15_000);
              p.child.once("exit", () => {
                clearTimeout(timer);
                resolve();
              });
              p.child.kill("SIGTERM");
            }),
        ),
      );
      processes.length = 0;
      await deleteKafkaNamespace(`${namespace}.`, servers.kafkaBrokers);
      await dropQuestDbTables(`${namespace}_`, servers.questdbPgUrl);
    },
    async api(method, url, body, token = "mp-token") {
      const res = await fetch(`http://127.0.0.1:${port}${url}`, {
        method,
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
  };
  return cluster;
}
