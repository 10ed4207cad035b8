// A Node @dapr/dapr 3.18 app used by the daprjobs pub/sub and state tests.
// It subscribes to $NODE_TOPIC on the "pubsub" component through the SDK's DaprServer (HTTP), then, as a client of
// the same sidecar, drives the State API (save with an ETag, get, bulk get, transaction, delete) and publishes three
// messages to its own topic. Every answer and every received message is appended to $NODE_EVENTS_FILE as a JSON line.
"use strict";

const fs = require("fs");
const { DaprServer, DaprClient, CommunicationProtocolEnum } = require("@dapr/dapr");

const EVENTS = process.env.NODE_EVENTS_FILE;
const TOPIC = process.env.NODE_TOPIC;
const STORE = "statestore";
const daprHost = "127.0.0.1";
const daprPort = process.env.DAPR_HTTP_PORT;

function record(kind, fields) {
  fs.appendFileSync(EVENTS, JSON.stringify({ kind, ...fields }) + "\n");
}

async function exerciseState(client) {
  await client.state.save(STORE, [{ key: "node-k1", value: { n: 1, who: "node" } }, { key: "node-k2", value: "two" }]);
  const got = await client.state.get(STORE, "node-k1");
  record("state-get", { value: got });
  const bulk = await client.state.getBulk(STORE, ["node-k1", "node-k2"]);
  record("state-bulk", { items: bulk.map((i) => ({ key: i.key, data: i.data })).sort((a, b) => (a.key < b.key ? -1 : 1)) });
  await client.state.transaction(STORE, [
    { operation: "upsert", request: { key: "node-k3", value: { n: 3 } } },
    { operation: "delete", request: { key: "node-k2" } },
  ]);
  record("state-after-transaction", {
    k2: (await client.state.get(STORE, "node-k2")) ?? null,
    k3: await client.state.get(STORE, "node-k3"),
  });
  await client.state.delete(STORE, "node-k1");
  record("state-after-delete", { k1: (await client.state.get(STORE, "node-k1")) ?? null });
}

async function main() {
  const server = new DaprServer({
    serverHost: "127.0.0.1",
    serverPort: process.env.APP_PORT,
    communicationProtocol: CommunicationProtocolEnum.HTTP,
    clientOptions: { daprHost, daprPort },
  });
  await server.pubsub.subscribe("pubsub", TOPIC, async (data) => {
    record("message", { data });
  });
  await server.start();
  record("started", {});
  const client = new DaprClient({ daprHost, daprPort, communicationProtocol: CommunicationProtocolEnum.HTTP });
  await exerciseState(client);
  for (const n of [1, 2, 3]) {
    await client.pubsub.publish("pubsub", TOPIC, { order: n });
  }
  record("published", { count: 3 });
}

main().catch((err) => {
  record("error", { message: String(err && err.stack ? err.stack : err) });
  process.exit(1);
});
