// A Node @dapr/dapr 3.18 HTTP actor app used by the daprjobs actor tests.
// It hosts NodeActor on an Express server (the SDK's DaprServer), registers a reminder through the SDK
// (POST /v1.0/actors/NodeActor/{id}/reminders/{name} with plain JSON data) from inside an actor method it
// invokes through the sidecar with the SDK's ActorProxyBuilder, and appends what it sees to
// $ACTOR_EVENTS_FILE as JSON lines.
"use strict";

const fs = require("fs");
const {
  DaprServer,
  DaprClient,
  AbstractActor,
  ActorProxyBuilder,
  ActorId,
  CommunicationProtocolEnum,
  Temporal,
} = require("@dapr/dapr");

const EVENTS = process.env.ACTOR_EVENTS_FILE;
const DAPR_HTTP_PORT = process.env.DAPR_HTTP_PORT;
const APP_PORT = process.env.APP_PORT;

function record(kind, fields) {
  fs.appendFileSync(EVENTS, JSON.stringify({ kind, pid: process.pid, t: Date.now() / 1000, ...fields }) + "\n");
}

class NodeActor extends AbstractActor {
  async onActivate() {
    record("activate", { actor: this.getActorId().getId() });
  }

  async registerPing(spec) {
    await this.registerActorReminder(
      spec.name,
      Temporal.Duration.from({ seconds: spec.due }),
      spec.period ? Temporal.Duration.from({ seconds: spec.period }) : undefined,
      undefined,
      spec.data,
    );
    return "ok";
  }

  async stopPing(name) {
    await this.unregisterActorReminder(name);
    return "ok";
  }

  async receiveReminder(data) {
    record("reminder", { actor: this.getActorId().getId(), data });
  }
}

async function main() {
  const clientOptions = {
    daprHost: "127.0.0.1",
    daprPort: DAPR_HTTP_PORT,
    communicationProtocol: CommunicationProtocolEnum.HTTP,
  };
  const server = new DaprServer({ serverHost: "127.0.0.1", serverPort: APP_PORT, clientOptions });
  await server.actor.init();
  server.actor.registerActor(NodeActor);
  await server.start();
  record("started", {});

  const actorId = process.env.NODE_ACTOR_ID;
  if (actorId) {
    const client = new DaprClient(clientOptions);
    const builder = new ActorProxyBuilder(NodeActor, client);
    const actor = builder.build(new ActorId(actorId));
    // The sidecar learns the app's actor types from GET /dapr/config; retry until the type is hosted.
    for (let attempt = 0; ; attempt++) {
      try {
        // Node 3.18's reminder handler runs the fired `data` through its buffer deserializer, which turns an
        // object into "[object Object]" (with daprd too): JSON data therefore travels as a JSON string.
        const data = JSON.stringify({ hello: "node", n: [1, 2] });
        await actor.registerPing({ name: "node-ping", due: 0, period: 1, data });
        record("registered", { actor: actorId });
        break;
      } catch (err) {
        if (attempt > 120) throw err;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
