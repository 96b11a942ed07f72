/**
 * A typed collection of the system of record over a moleculer-db adapter: a file-backed NeDB
 * datastore in DATA_DIR (embedded default) or a MongoDB collection (MONGO_URI; FerretDB 1.x works
 * too: nothing here needs transactions, change streams, TTL or partial indexes). Documents are keyed
 * by their natural id (`_id` = client order id, fill id, idempotency key …), so the primary key
 * itself enforces idempotency on both backends; inserting a duplicate raises DuplicateKeyError.
 */
import fs from "node:fs";
import path from "node:path";
// moleculer-db ships no typings for its adapters.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { MemoryAdapter } = require("moleculer-db");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const MongoDbAdapter = require("moleculer-db-adapter-mongo");
import type { ServiceBroker, Logger } from "moleculer";
import { DependencyUnavailableError, DuplicateKeyError } from "../errors";
import { within } from "../clock";

// Kept for the store conformance suite, which imports it from here.

export interface IndexSpec {
  fields: string[];
  unique?: boolean;
}

export interface FindQuery {
  query?: Record<string, unknown>;
  /** Field names, "-" prefix for descending, e.g. ["-time"]. */
  sort?: string[];
  limit?: number;
  offset?: number;
}

/** The subset of moleculer-db's adapter interface this module relies on. */
interface DbAdapter {
  init(broker: ServiceBroker, service: unknown): void;
  connect(): Promise<unknown>;
  disconnect(): Promise<unknown> | void;
  find(params: FindQuery): Promise<Record<string, unknown>[]>;
  /** MongoDB's cursor behind `find`. */
  createCursor?(params: FindQuery, isCounting: false): { maxTimeMS(ms: number): { toArray(): Promise<Record<string, unknown>[]> } };
  findOne(query: Record<string, unknown>): Promise<Record<string, unknown> | null>;
  count(params: { query?: Record<string, unknown> }): Promise<number>;
  insert(doc: Record<string, unknown>): Promise<Record<string, unknown>>;
  updateMany(query: Record<string, unknown>, update: Record<string, unknown>): Promise<unknown>;
  removeMany(query: Record<string, unknown>): Promise<unknown>;
  db?: { ensureIndex?(spec: object): Promise<unknown>; setAutocompactionInterval?(ms: number): void; stopAutocompaction?(): void } | null;
  collection?: {
    createIndex(fields: Record<string, 1>, options: { unique?: boolean; name?: string }): Promise<unknown>;
    updateOne(filter: Record<string, unknown>, update: Record<string, unknown>, options: { upsert: boolean }): Promise<unknown>;
  };
}

export interface StoreBackend {
  kind: "file" | "mongo";
  dataDir: string;
  mongoUri?: string;
  /** MongoDB only: a call without an answer in this time counts as the store being unavailable (default 5000). */
  timeoutMs?: number;
}

const STORE_TIMEOUT_MS = 5000;

function isDuplicate(err: unknown): boolean {
  const e = err as { errorType?: string; code?: number };
  return e?.errorType === "uniqueViolated" || e?.code === 11000;
}

const MAX_TIME_MS_EXPIRED = 50;

function isUnavailable(err: unknown): boolean {
  const name = (err as Error)?.name ?? "";
  return /MongoNetwork|MongoServerSelection|MongoNotConnected|MongoTopologyClosed/.test(name) || (err as { code?: number })?.code === MAX_TIME_MS_EXPIRED;
}

export class Collection<T extends object> {
  private constructor(
    readonly name: string,
    private readonly adapter: DbAdapter,
    /** Undefined for the file store, which is local and cannot hang. */
    private readonly timeoutMs?: number,
  ) {}

  static async open<T extends object>(
    broker: ServiceBroker,
    logger: Logger,
    backend: StoreBackend,
    name: string,
    indexes: IndexSpec[] = [],
  ): Promise<Collection<T>> {
    let adapter: DbAdapter;
    if (backend.kind === "mongo") {
      // Short server selection so an outage surfaces in seconds (API 503, consumers pause) instead of
      // 30 s, and a heartbeat every second so the driver sees the server back within a second or two.
      adapter = new MongoDbAdapter(backend.mongoUri, {
        useUnifiedTopology: true,
        serverSelectionTimeoutMS: 5000,
        heartbeatFrequencyMS: 1000,
        connectTimeoutMS: 5000,
      });
    } else {
      fs.mkdirSync(backend.dataDir, { recursive: true });
      adapter = new MemoryAdapter({ filename: path.join(backend.dataDir, `${name}.db`) });
    }
    adapter.init(broker, { schema: { collection: name }, logger });
    await adapter.connect();
    for (const index of indexes) {
      if (adapter.collection) {
        // Plain (non-partial, non-TTL) indexes only: FerretDB 1.x has no others.
        await adapter.collection.createIndex(Object.fromEntries(index.fields.map((f) => [f, 1])) as Record<string, 1>, { unique: Boolean(index.unique) });
      } else {
        // NeDB indexes one field; compound indexes only matter for MongoDB's query plans.
        await adapter.db?.ensureIndex?.({ fieldName: index.fields[0], unique: Boolean(index.unique) && index.fields.length === 1 });
      }
    }
    adapter.db?.setAutocompactionInterval?.(10 * 60 * 1000);
    return new Collection<T>(name, adapter, backend.kind === "mongo" ? (backend.timeoutMs ?? STORE_TIMEOUT_MS) : undefined);
  }

  /**
   * Runs a store call; a network failure or no answer within the timeout becomes
   * DependencyUnavailableError, so a consumer pauses and retries the same message (heartbeating)
   * instead of its handler hanging, and the API answers 503. Retrying a call that timed out but
   * went through is harmless: documents are keyed by their natural id and updates set fields.
   */
  private async guard<R>(op: () => Promise<R>): Promise<R> {
    const { timeoutMs } = this;
    try {
      if (timeoutMs === undefined) return await op();
      return await within(op(), timeoutMs, () => new DependencyUnavailableError(`store ${this.name} unavailable: no answer within ${timeoutMs} ms`));
    } catch (err) {
      if (isUnavailable(err)) throw new DependencyUnavailableError(`store ${this.name} unavailable: ${(err as Error).message}`);
      throw err;
    }
  }

  private static strip<T>(doc: Record<string, unknown> | null | undefined): T | undefined {
    if (!doc) return undefined;
    const { _id, ...rest } = doc;
    void _id;
    return rest as T;
  }

  /** Inserts a document under its natural id; DuplicateKeyError when that id exists. */
  async insert(id: string, doc: T): Promise<T> {
    try {
      await this.guard(() => this.adapter.insert({ ...doc, _id: id }));
      return doc;
    } catch (err) {
      if (isDuplicate(err)) throw new DuplicateKeyError(this.name, id);
      throw err;
    }
  }

  /** Inserts unless the id exists; true when inserted. */
  async insertIfAbsent(id: string, doc: T): Promise<boolean> {
    try {
      await this.insert(id, doc);
      return true;
    } catch (err) {
      if (err instanceof DuplicateKeyError) return false;
      throw err;
    }
  }

  async get(id: string): Promise<T | undefined> {
    return Collection.strip<T>(await this.guard(() => this.adapter.findOne({ _id: id })));
  }

  async findOne(query: Record<string, unknown>): Promise<T | undefined> {
    return Collection.strip<T>(await this.guard(() => this.adapter.findOne(query)));
  }

  async find(params: FindQuery = {}): Promise<T[]> {
    const cursorParams = { query: params.query ?? {}, ...params };
    // The server gives up on a query at the timeout too, rather than scanning on for a caller who left.
    const read = () =>
      this.timeoutMs !== undefined && this.adapter.createCursor ? this.adapter.createCursor(cursorParams, false).maxTimeMS(this.timeoutMs).toArray() : this.adapter.find(cursorParams);
    return (await this.guard(read)).map((d) => Collection.strip<T>(d)!);
  }

  async count(query: Record<string, unknown> = {}): Promise<number> {
    return this.guard(() => this.adapter.count({ query }));
  }

  /** Sets fields of the document with that id. */
  async update(id: string, fields: Partial<T>): Promise<void> {
    await this.guard(() => this.adapter.updateMany({ _id: id }, { $set: fields }));
  }

  /** Replaces the document with that id, creating it when absent. */
  async put(id: string, doc: T): Promise<void> {
    const collection = this.adapter.collection;
    if (collection) {
      // MongoDB: one upsert, one round trip (state saved per message must not cost two).
      await this.guard(() => collection.updateOne({ _id: id }, { $set: doc }, { upsert: true }));
      return;
    }
    if (!(await this.insertIfAbsent(id, doc))) await this.update(id, doc);
  }

  async remove(query: Record<string, unknown>): Promise<void> {
    await this.guard(() => this.adapter.removeMany(query));
  }

  async close(): Promise<void> {
    this.adapter.db?.stopAutocompaction?.();
    await this.adapter.disconnect();
  }
}
