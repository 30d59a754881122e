// Subscribe with the official graphql-ws client; print one JSON line per event.
//
//   node subscribe.mjs ws://127.0.0.1:8000/products/graphql 'subscription { ... }' 2
//
// Prints {"ready": true} once the subscription is in place (a query sent
// after it on the same socket has been answered), then {"event": ...} for
// each event, {"error": ...} for errors, and exits after COUNT events.
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const [url, query, count = "1"] = process.argv.slice(2);
const print = (value) => process.stdout.write(JSON.stringify(value) + "\n");

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  lazy: false,
  retryAttempts: 0,
  connectionParams: { client: "graphql-ws" },
});

let received = 0;
const done = (code) => client.dispose().then(() => process.exit(code));

client.subscribe(
  { query },
  {
    next: (value) => {
      print({ event: value });
      received += 1;
      if (received >= Number(count)) done(0);
    },
    error: (error) => {
      print({ error: Array.isArray(error) ? error : String(error?.reason ?? error) });
      done(1);
    },
    complete: () => done(0),
  },
);

// Messages are handled in order: once this query is answered, the server
// has joined the subscription's group.
const probe = client.iterate({ query: "{ __typename }" });
await probe.next();
print({ ready: true });
