// Starts the demo jar on a free port with a fresh H2 database, as examples/README.md documents,
// or uses the server named by PARLEY_IT_BASE_URL (then PARLEY_IT_JWT_SECRET, if set, must be its secret).
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const DEMO_JAR = process.env.PARLEY_DEMO_JAR ?? join(here, '..', '..', 'target', 'parley-demo.jar');
export const JWT_SECRET = 'clients-it: a secret of at least thirty-two bytes';
const STARTUP_MS = 90_000;

/** A running demo server: `baseUrl`, `login(user)` for a dev-login token, `stop()`. */
export async function startDemo(extraEnv = {}) {
  if (process.env.PARLEY_IT_BASE_URL) {
    return withHelpers({ baseUrl: process.env.PARLEY_IT_BASE_URL.replace(/\/$/, ''), stop: async () => {} });
  }
  if (!existsSync(DEMO_JAR)) {
    throw new Error(`${DEMO_JAR} is missing: build it first (mvn -DskipTests package)`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'parley-clients-it-'));
  const logFile = join(dir, 'server.log');
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PARLEY_') && !k.startsWith('OPENAI_')));
  Object.assign(env, {
    PARLEY_PORT: '0',
    PARLEY_DB_URL: `jdbc:h2:file:${join(dir, 'parley')}`,
    PARLEY_JWT_SECRET: JWT_SECRET,
    PARLEY_DEV_LOGIN: 'true',
    PARLEY_DEMO_TOKEN_DELAY_MS: '5',
    ...extraEnv,
  });
  const java = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
  const child = spawn(java, ['-jar', DEMO_JAR], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(logFile);
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const tail = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n') : '');

  const baseUrl = await new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`the demo did not start within ${STARTUP_MS} ms:\n${tail()}`)), STARTUP_MS);
    const onData = (chunk) => {
      seen += chunk.toString();
      const m = seen.match(/Parley demo is running: open (http:\/\/[^/\s]+)\//);
      if (m) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        child.stderr.off('data', onData);
        resolve(m[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the demo exited (${code ?? signal}) before it started:\n${tail()}`));
    });
  });

  async function stop() {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
    }
    await exited;
    log.end();
    rmSync(dir, { recursive: true, force: true });
  }
  return withHelpers({ baseUrl, stop, log: tail });
}

function withHelpers(server) {
  return {
    ...server,
    /** A bearer token for `user` from the demo's dev login. */
    async login(user) {
      const body = await json(server.baseUrl, 'POST', '/dev/login', null, { user });
      return body.token;
    },
    /** A JSON request; throws on a status other than `expect`. */
    request: (method, path, token, body, expect) => json(server.baseUrl, method, path, token, body, expect),
  };
}

async function json(baseUrl, method, path, token, body, expect) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined && body !== null) headers['Content-Type'] = 'application/json';
  const res = await fetch(baseUrl + path, { method, headers, body: body == null ? undefined : JSON.stringify(body) });
  const text = await res.text();
  const ok = expect === undefined ? res.ok : res.status === expect;
  if (!ok) {
    throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
  }
  return text ? JSON.parse(text) : null;
}
