// A TCP proxy in front of the server that can cut every connection going through it, the way a
// flaky network or a restarting load balancer does, while it keeps accepting new ones.
import net from 'node:net';

export async function startProxy(targetBaseUrl) {
  const target = new URL(targetBaseUrl);
  const open = new Set();
  let accepted = 0;
  const server = net.createServer((client) => {
    accepted++;
    const upstream = net.connect(Number(target.port), target.hostname);
    const pair = { client, upstream };
    open.add(pair);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      open.delete(pair);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    /** How many connections the proxy accepted so far. */
    get accepted() {
      return accepted;
    },
    /** Resets every open connection (both sides) and answers how many there were. */
    cut() {
      const n = open.size;
      for (const { client, upstream } of open) {
        client.resetAndDestroy();
        upstream.resetAndDestroy();
      }
      open.clear();
      return n;
    },
    async close() {
      this.cut();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
