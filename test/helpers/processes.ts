/**
 * Runs platform services as separate OS processes over NATS + Kafka + MongoDB, the way operators
 * run them (`SERVICES=<name> npm run start:services`), for the multi-process and fault tests.
 * CLUSTER_LOG_DIR=<dir> keeps each process's output in a file there.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { infra, mongoUriFor } from "./infra";
import { tempDataDir } from "./wait";

const root = path.join(__dirname, "..", "..");
const tsx = path.join(root, "node_modules", ".bin", "tsx");

export interface ServiceProcess {
  name: string;
  child: ChildProcess;
  output: string[];
}

export interface Cluster {
  namespace: string;
  env: NodeJS.ProcessEnv;
  port: number;
  processes: ServiceProcess[];
  start(services: string, extraEnv?: NodeJS.ProcessEnv): Promise<ServiceProcess>;
  /** SIGKILL: a crash, no graceful shutdown. */
  kill(proc: ServiceProcess): Promise<void>;
  stopAll(): Promise<void>;
  api(method: string, url: string, body?: unknown): Promise<{ status: number; body: any }>;
}

let nextPort = 3400 + (process.pid % 500);

export function createCluster(options: { config?: NodeJS.ProcessEnv } = {}): Cluster {
  const namespace = `mp${randomUUID().slice(0, 8)}`;
  const port = nextPort++;
  const dataDir = tempDataDir();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TRANSPORTER: infra().natsUrl,
    NAMESPACE: namespace,
    KAFKA_BROKERS: infra().kafkaBrokers.join(","),
    KAFKA_NAMESPACE: `${namespace}.`,
    MONGO_URI: mongoUriFor(namespace),
    DATA_DIR: dataDir,
    API_TOKEN: "mp-token",
    PORT: String(port),
    SIM_SPEED: "300",
    LOGLEVEL: "info",
    NODE_OPTIONS: "--disable-warning=DEP0174",
    ...options.config,
  };
  const processes: ServiceProcess[] = [];

  const cluster: Cluster = {
    namespace,
    env,
    port,
    processes,
    async start(services, extraEnv = {}) {
      const child = spawn(tsx, [path.join(root, "bin", "start.ts")], {
        cwd: root,
        env: { ...env, SERVICES: services, NODE_ID: `${services}-${randomUUID().slice(0, 4)}`, ...extraEnv },
        stdio: ["ignore", "pipe", "pipe"],
      });
      const proc: ServiceProcess = { name: services, child, output: [] };
      processes.push(proc);
      const logFile = process.env.CLUSTER_LOG_DIR ? path.join(process.env.CLUSTER_LOG_DIR, `${services}-${child.pid}.log`) : undefined;
      const collect = (chunk: Buffer) => {
        proc.output.push(chunk.toString());
        if (logFile) fs.appendFileSync(logFile, chunk);
        if (proc.output.length > 2000) proc.output.splice(0, 1000);
      };
      child.stdout!.on("data", collect);
      child.stderr!.on("data", collect);
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${services} did not start within 90 s:\n${proc.output.join("").slice(-3000)}`)), 90_000);
        const check = () => {
          if (proc.output.join("").includes("platform up")) {
            clearTimeout(timer);
            resolve();
          }
        };
        child.stdout!.on("data", check);
        child.once("exit", (code) => {
          clearTimeout(timer);
          reject(new Error(`${services} exited with ${code}:\n${proc.output.join("").slice(-3000)}`));
        });
      });
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
    },
    async api(method, url, body) {
      const res = await fetch(`http://127.0.0.1:${port}${url}`, {
        method,
        headers: { "content-type": "application/json", authorization: "Bearer mp-token" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
  };
  return cluster;
}
