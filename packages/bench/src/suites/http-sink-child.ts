/**
 * Child process of the sender suites: the ILP/HTTP peer's server. It reads
 * every request body and answers 204, as QuestDB does for an accepted
 * write, without parsing a line; `GET /bench-stats` returns what it read.
 * Prints one line on stdout when listening; stops on SIGTERM.
 */
import { createServer } from 'node:http';

let bytes = 0;
let requests = 0;
const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/bench-stats') {
    res.end(JSON.stringify({ bytes, requests }));
    return;
  }
  req.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
  });
  req.on('end', () => {
    requests++;
    res.writeHead(204).end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  console.log(`listening on http://127.0.0.1:${port}/ (204 sink)`);
});
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
