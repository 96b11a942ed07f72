#!/usr/bin/env node
/*
 * Smoke test of the real servers with the project's own npm clients.
 *   node scripts/infra/smoke.cjs            Kafka, MongoDB protocol (FerretDB), NATS and QuestDB
 *   node scripts/infra/smoke.cjs kafka-kept  after a broker restart: the smoke topic and its
 *                                            message are still there
 * Reads KAFKA_BROKERS, MONGO_URI, TRANSPORTER, QUESTDB_HTTP and QUESTDB_PG (defaults: scripts/infra/all.sh env), and
 * SMOKE_ID, the same for both modes, naming the Kafka message to look for after the restart.
 * Run by `scripts/infra/all.sh smoke`; prints one line per check and exits non-zero on failure.
 */
"use strict";
const path = require("path");
const root = path.resolve(__dirname, "..", "..");
const need = (m) => require(require.resolve(m, { paths: [root] }));

const KAFKA_BROKERS = (process.env.KAFKA_BROKERS || "127.0.0.1:9092").split(",");
const MONGO_URI = process.env.MONGO_URI || "mongodb://127.0.0.1:27017/tbp";
const TRANSPORTER = process.env.TRANSPORTER || "nats://127.0.0.1:4222";
const QUESTDB_HTTP = process.env.QUESTDB_HTTP || "http://127.0.0.1:9000";
const QUESTDB_PG = process.env.QUESTDB_PG || "postgresql://admin:quest@127.0.0.1:8812/qdb";
const TOPIC = "tbp-infra-smoke";
// Names this run's Kafka message, so that `kafka-kept` looks for the one `all` produced.
const SMOKE_ID = process.env.SMOKE_ID || String(Date.now());

const ok = (msg) => console.log(`ok   ${msg}`);
const timed = async (name, fn) => {
  const t0 = Date.now();
  await fn();
  ok(`${name} (${Date.now() - t0} ms)`);
};
const withTimeout = (p, ms, what) =>
  Promise.race([p, new Promise((_, rej) => setTimeout(() => rej(new Error(`timeout after ${ms} ms: ${what}`)), ms))]);

function kafkaClient() {
  const { Kafka, logLevel } = need("kafkajs");
  return new Kafka({ clientId: "tbp-infra-smoke", brokers: KAFKA_BROKERS, logLevel: logLevel.ERROR });
}

/** Reads the topic from the beginning with a fresh group until `key` with `value` (any value if null) is seen. */
async function consumeOne(kafka, key, value) {
  const consumer = kafka.consumer({ groupId: `tbp-infra-smoke-${process.pid}-${Date.now()}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    return await withTimeout(
      new Promise((resolve, reject) => {
        consumer
          .run({
            eachMessage: async ({ message }) => {
              const v = message.value.toString();
              if (message.key && message.key.toString() === key && (value == null || v === value)) resolve(v);
            },
          })
          .catch(reject);
      }),
      30000,
      `consume key ${key} from ${TOPIC}`,
    );
  } finally {
    await consumer.disconnect();
  }
}

async function kafkaSmoke() {
  const kafka = kafkaClient();
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = await admin.listTopics();
    if (!topics.includes(TOPIC)) {
      await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true });
    }
    const meta = await admin.fetchTopicMetadata({ topics: [TOPIC] });
    ok(`kafka: topic ${TOPIC} with ${meta.topics[0].partitions.length} partitions`);
  } finally {
    await admin.disconnect();
  }
  const producer = kafka.producer();
  await producer.connect();
  const key = "smoke";
  const value = `hello ${SMOKE_ID}`;
  await producer.send({ topic: TOPIC, acks: -1, messages: [{ key, value }] });
  await producer.disconnect();
  ok("kafka: produced one message");
  const got = await consumeOne(kafka, key, value);
  ok(`kafka: consumed it back: ${JSON.stringify(got)}`);
}

async function kafkaKept() {
  const kafka = kafkaClient();
  const admin = kafka.admin();
  await admin.connect();
  const topics = await admin.listTopics();
  await admin.disconnect();
  if (!topics.includes(TOPIC)) throw new Error(`kafka: topic ${TOPIC} is gone after restart (topics: ${topics})`);
  ok(`kafka: topic ${TOPIC} still there`);
  const got = await consumeOne(kafka, "smoke", `hello ${SMOKE_ID}`);
  ok(`kafka: message still readable: ${JSON.stringify(got)}`);
}

async function mongoSmoke() {
  const { MongoClient } = need("mongodb");
  const client = await MongoClient.connect(MONGO_URI, { useUnifiedTopology: true, useNewUrlParser: true, serverSelectionTimeoutMS: 5000 });
  try {
    const db = client.db(); // database from the URI
    const coll = db.collection("infra_smoke");
    await coll.deleteMany({});
    await coll.insertOne({ _id: "a", sym: "BTC/USDT", qty: 1 });
    const doc = await coll.findOne({ sym: "BTC/USDT" });
    if (!doc || doc.qty !== 1) throw new Error(`mongo: findOne gave ${JSON.stringify(doc)}`);
    ok(`mongo: insert + find in ${db.databaseName}.infra_smoke`);
    await coll.createIndex({ sym: 1 }, { unique: true, name: "sym_unique" });
    let dup = null;
    try {
      await coll.insertOne({ _id: "b", sym: "BTC/USDT", qty: 2 });
    } catch (e) {
      dup = e;
    }
    if (!dup || dup.code !== 11000) throw new Error(`mongo: expected duplicate key error 11000, got ${dup && (dup.code + " " + dup.message)}`);
    ok(`mongo: unique index rejects a duplicate (code ${dup.code}: ${dup.message.slice(0, 80)})`);
    const r = await coll.findOneAndUpdate({ _id: "a" }, { $inc: { qty: 1 } }, { returnDocument: "after" });
    if (!r.value || r.value.qty !== 2) throw new Error(`mongo: findOneAndUpdate gave ${JSON.stringify(r.value)}`);
    ok("mongo: findOneAndUpdate");
    await coll.drop();
  } finally {
    await client.close();
  }
}

async function natsSmoke() {
  const { connect, StringCodec } = need("nats");
  const nc = await connect({ servers: TRANSPORTER, timeout: 5000 });
  try {
    const sc = StringCodec();
    const sub = nc.subscribe("tbp.infra.smoke", { max: 1 });
    const got = (async () => {
      for await (const m of sub) return sc.decode(m.data);
    })();
    await nc.flush();
    nc.publish("tbp.infra.smoke", sc.encode("ping"));
    const msg = await withTimeout(got, 5000, "nats message");
    if (msg !== "ping") throw new Error(`nats: got ${msg}`);
    ok(`nats: pub/sub on ${nc.getServer()}`);
  } finally {
    await nc.close();
  }
}

/** The same query over both protocols: the PostgreSQL wire (the pg client) and HTTP /exec. */
async function questdbSmoke() {
  const { Client } = need("pg");
  const pg = new Client({ connectionString: QUESTDB_PG });
  await pg.connect();
  try {
    const { rows } = await pg.query("SELECT 40 + 2 AS answer");
    if (Number(rows[0].answer) !== 42) throw new Error(`questdb: PG wire gave ${JSON.stringify(rows)}`);
    ok(`questdb: SELECT over the PostgreSQL wire on ${pg.host}:${pg.port}`);
  } finally {
    await pg.end();
  }
  const res = await fetch(`${QUESTDB_HTTP}/exec?query=${encodeURIComponent("SELECT 40 + 2 AS answer")}`);
  const body = await res.json();
  if (!res.ok || body.dataset[0][0] !== 42) throw new Error(`questdb: HTTP ${res.status} gave ${JSON.stringify(body)}`);
  ok(`questdb: SELECT over HTTP on ${QUESTDB_HTTP}`);
}

async function main() {
  const mode = process.argv[2] || "all";
  if (mode === "kafka-kept") {
    await timed("kafka after restart", kafkaKept);
    return;
  }
  if (mode !== "all") throw new Error(`unknown mode ${mode}`);
  await timed("kafka", kafkaSmoke);
  await timed("mongo", mongoSmoke);
  await timed("nats", natsSmoke);
  await timed("questdb", questdbSmoke);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`FAIL ${e && e.stack ? e.stack : e}`);
    process.exit(1);
  },
);
