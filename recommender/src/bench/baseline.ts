/**
 * Baseline servers for the serving benchmark: answer every request with the same fixed JSON
 * body (the size of a real recommendation), with bare node:http or bare express.
 *   tsx recommender/src/bench/baseline.ts http|express BODY_FILE   (prints the port)
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';

const [kind, bodyFile] = process.argv.slice(2);
const body = readFileSync(bodyFile!, 'utf8');
const parsed: unknown = JSON.parse(body);

let server;
if (kind === 'http') {
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
} else {
  const app = express();
  app.get('/{*any}', (_req, res) => {
    res.json(parsed);
  });
  server = createServer(app);
}
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
});
process.once('SIGINT', () => process.exit(0));
process.once('SIGTERM', () => process.exit(0));
