// A legacy Express app run and reverse-proxied by Joule under its prefix.
// The platform sets PORT, HOST and BASE_PATH (the service prefix, e.g.
// "/legacy-api"); every route, the websocket included, lives under BASE_PATH.
const http = require("node:http");
const zlib = require("node:zlib");
const crypto = require("node:crypto");
const express = require("express");
const { WebSocketServer } = require("ws");

const port = Number(process.env.PORT || 3000);
const host = process.env.HOST || "127.0.0.1";
const base = process.env.BASE_PATH || "";

const api = express.Router();

api.get("/health", (req, res) => res.json({ ok: true }));

api.get("/hello", (req, res) => {
  res.json({ message: "Hello from Express", base, url: req.originalUrl });
});

api.get("/items/:id", (req, res) => {
  res.json({ id: Number(req.params.id), name: `Item ${req.params.id}` });
});

// The request as the app sees it: method, URL and headers.
api.all("/headers", (req, res) => {
  res.json({ method: req.method, url: req.originalUrl, headers: req.headers });
});

// Streams the body back as a digest, without buffering it.
api.post("/echo", (req, res) => {
  const hash = crypto.createHash("sha256");
  let bytes = 0;
  req.on("data", (chunk) => {
    bytes += chunk.length;
    hash.update(chunk);
  });
  req.on("end", () => {
    res.json({
      bytes,
      sha256: hash.digest("hex"),
      contentType: req.headers["content-type"] || null,
      transferEncoding: req.headers["transfer-encoding"] || null,
    });
  });
});

api.get("/redirect", (req, res) => res.redirect(302, `${base}/hello`));
// An app that ignores BASE_PATH, and one that builds absolute URLs from Host.
api.get("/redirect-root", (req, res) => res.redirect(302, "/hello"));
api.get("/redirect-absolute", (req, res) => {
  res.redirect(302, `http://${req.headers.host}${base}/hello`);
});

api.get("/cookie", (req, res) => {
  res.cookie("session", "abc123", { httpOnly: true });
  res.cookie("scoped", "1", { path: `${base}/hello` });
  res.json({ set: ["session", "scoped"] });
});

// Five chunks, 150 ms apart, sent with chunked transfer encoding.
api.get("/stream", (req, res) => {
  res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
  let sent = 0;
  const timer = setInterval(() => {
    res.write(`chunk ${sent} ${Date.now()}\n`);
    sent += 1;
    if (sent === 5) {
      clearInterval(timer);
      res.end();
    }
  }, 150);
  req.on("close", () => clearInterval(timer));
});

api.get("/gzip", (req, res) => {
  const body = JSON.stringify({ compressed: true, words: "lorem ".repeat(200) });
  res.set({ "content-type": "application/json", "content-encoding": "gzip" });
  res.send(zlib.gzipSync(body));
});

// Response headers a proxy must not pass on (chunked, with a trailer).
api.get("/hop-by-hop", (req, res) => {
  res.writeHead(200, {
    "content-type": "application/json",
    connection: "close, x-hop-secret",
    "x-hop-secret": "hidden",
    "keep-alive": "timeout=5",
    "proxy-authenticate": "Basic",
    trailer: "x-checksum",
    upgrade: "h2c",
    "x-end-to-end": "kept",
  });
  res.write(JSON.stringify({ ok: true }));
  res.addTrailers({ "x-checksum": "0" });
  res.end();
});

api.get("/slow", (req, res) => {
  const ms = Math.min(Number(req.query.ms || 1000), 30000);
  setTimeout(() => res.json({ waited: ms }), ms);
});

api.get("/status/:code", (req, res) => {
  res.status(Number(req.params.code)).json({ status: Number(req.params.code) });
});

const app = express();
app.disable("x-powered-by");
app.use(base || "/", api);
app.use((req, res) => res.status(404).json({ error: "not found", url: req.url }));

const server = http.createServer(app);

// Echoes every message; accepts the first subprotocol the client offers.
const sockets = new WebSocketServer({
  server,
  path: `${base}/ws`,
  handleProtocols: (protocols) => protocols.values().next().value || false,
});
sockets.on("connection", (socket, req) => {
  socket.send(JSON.stringify({ hello: socket.protocol || null, url: req.url }));
  socket.on("message", (data, isBinary) => socket.send(data, { binary: isBinary }));
});

server.listen(port, host, () => {
  console.log(`legacy-express listening on http://${host}:${port}${base}`);
});

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    console.log(`legacy-express stopping on ${signal}`);
    sockets.clients.forEach((socket) => socket.close(1001, "going away"));
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 2000).unref();
  });
}
