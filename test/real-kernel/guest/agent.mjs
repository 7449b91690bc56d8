/* global process, setTimeout, clearTimeout, console */
// The real-kernel tier's agent inside the guest: the host test drives the guest through it
// (QEMU forwards a host loopback port to it). Test infrastructure only, never shipped: it runs
// what the host asks, as root, in a throwaway VM whose network reaches nothing but the host's
// forwarded loopback ports.
//   POST /exec     {argv, timeoutMs?, input?}   → {code, signal, stdout, stderr, ms}
//   POST /start    {name, argv, env?}           → {pid}    (a long-running process, e.g. the node plugin)
//   POST /stop     {name, signal?}              → {code, signal}
//   POST /shutdown                              → stops every process, then the agent exits
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';

const PORT = Number(process.env.AGENT_PORT ?? 7000);
const LOGS = process.env.AGENT_LOGS ?? '/vmrun/logs';
mkdirSync(LOGS, { recursive: true });
const procs = new Map();

function run({ argv, timeoutMs = 120_000, input }) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: 127, signal: null, stdout, stderr: String(err), ms: Date.now() - started });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: stdout.slice(-200_000), stderr: stderr.slice(-200_000), ms: Date.now() - started });
    });
    child.stdin.end(input ?? '');
  });
}

function start({ name, argv, env }) {
  const prev = procs.get(name);
  if (prev && prev.exit === undefined) throw new Error(`${name} is running (pid ${prev.child.pid})`);
  const log = createWriteStream(`${LOGS}/${name}.log`, { flags: 'a' });
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const entry = { child, exit: undefined, waiters: [] };
  child.on('exit', (code, signal) => {
    entry.exit = { code, signal };
    for (const w of entry.waiters) w(entry.exit);
  });
  procs.set(name, entry);
  return { pid: child.pid };
}

function stop({ name, signal = 'SIGTERM' }) {
  const e = procs.get(name);
  if (!e) return Promise.resolve({ code: null, signal: null, missing: true });
  if (e.exit) return Promise.resolve(e.exit);
  return new Promise((resolve) => {
    e.waiters.push(resolve);
    e.child.kill(signal);
  });
}

const server = createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', async () => {
    const reply = (status, value) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    try {
      const args = body ? JSON.parse(body) : {};
      if (req.url === '/health') return reply(200, { ok: true, uptime: process.uptime() });
      if (req.url === '/exec') return reply(200, await run(args));
      if (req.url === '/start') return reply(200, start(args));
      if (req.url === '/stop') return reply(200, await stop(args));
      if (req.url === '/shutdown') {
        for (const name of procs.keys()) await stop({ name });
        reply(200, { ok: true });
        server.close();
        setTimeout(() => process.exit(0), 100);
        return;
      }
      reply(404, { error: `no ${req.url}` });
    } catch (err) {
      reply(500, { error: String(err?.stack ?? err) });
    }
  });
});
server.listen(PORT, '0.0.0.0', () => console.log(`CMC-AGENT-READY port=${PORT}`));
