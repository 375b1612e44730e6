// A minimal broadcast server on the `ws` package, peer (a) of bench/ws.sh: every message a client
// sends is sent to every other open client. `ws` buffers per socket without a bound, as a typical
// app on it does.
//
//   node --expose-gc server.js 127.0.0.1 PORT
//
// GET /stats answers {"connections":n,"heapBytes":b} after a forced GC (for the idle-connection
// memory check); other paths upgrade to a WebSocket.
'use strict';
const http = require('http');
const { WebSocketServer, WebSocket } = require('ws');

const [host, port] = process.argv.slice(2);
if (!host || !port) {
  console.error('usage: node server.js HOST PORT');
  process.exit(2);
}

const server = http.createServer((req, res) => {
  if (req.url === '/stats') {
    if (global.gc) global.gc();
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ connections: wss.clients.size, heapBytes: process.memoryUsage().heapUsed }));
    return;
  }
  res.statusCode = 426;
  res.end();
});

const wss = new WebSocketServer({ server, perMessageDeflate: false, maxPayload: 64 * 1024 });
wss.on('connection', (socket) => {
  socket.on('message', (data, isBinary) => {
    for (const client of wss.clients) {
      if (client !== socket && client.readyState === WebSocket.OPEN) {
        client.send(data, { binary: isBinary });
      }
    }
  });
  socket.on('error', () => socket.terminate());
});

server.listen(Number(port), host, () => console.log(`node ws server listening on ${host}:${port}`));
