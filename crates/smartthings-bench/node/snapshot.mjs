// The official TypeScript SDK (`@smartthings/core-sdk`) taking the same
// snapshot as `SmartThings::snapshot()`: the location list, each location's
// rooms, the scene list and every device with status and health. Driven by
// the `snapshot` section of smartthings-bench, which installs the package
// from the npm registry into a cache directory outside the repository.
//
// Usage: node snapshot.mjs <install prefix> <API base URL> <token>
// Then one line on stdin per snapshot; each answers one line of JSON on
// stdout: {"ms": wall time, "devices", "withStatus", "locations", "rooms",
// "scenes"}. One process for all runs, as a long-lived Node service would
// be: its JIT and its HTTP agent's connections stay warm between runs.

import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const [prefix, baseURL, token] = process.argv.slice(2);
// The package is installed under the prefix, not beside this script.
const require = createRequire(join(prefix, 'package.json'));
const { SmartThingsClient, BearerTokenAuthenticator, EndpointClient } =
  require('@smartthings/core-sdk');

// The SDK passes a next link through only when it starts with `https://`
// (the real API's); the simulator is plain HTTP on loopback, and its links
// would otherwise be appended to the base URL. Same requests, same URLs.
const url = EndpointClient.prototype.url;
EndpointClient.prototype.url = function (path) {
  return path && path.startsWith('http://') ? path : url.call(this, path);
};

const client = new SmartThingsClient(new BearerTokenAuthenticator(token), {
  urlProvider: { baseURL, authURL: `${baseURL}/oauth/token` },
});

// What a Node user would write: every independent list at once, and each
// location's rooms as soon as the location list is in.
async function snapshot() {
  const [locations, scenes, devices] = await Promise.all([
    client.locations.list().then((locations) =>
      Promise.all(
        locations.map(async (location) => ({
          ...location,
          rooms: await client.rooms.list(location.locationId),
        })),
      ),
    ),
    client.scenes.list(),
    client.devices.list({ includeStatus: true, includeHealth: true }),
  ]);
  return { locations, scenes, devices };
}

createInterface({ input: process.stdin }).on('line', async () => {
  try {
    const started = process.hrtime.bigint();
    const home = await snapshot();
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const withStatus = home.devices.filter((d) =>
      (d.components ?? []).every((c) => (c.capabilities ?? []).every((cap) => cap.status)),
    ).length;
    console.log(
      JSON.stringify({
        ms,
        devices: home.devices.length,
        withStatus,
        locations: home.locations.length,
        rooms: home.locations.reduce((n, l) => n + l.rooms.length, 0),
        scenes: home.scenes.length,
      }),
    );
  } catch (e) {
    console.log(JSON.stringify({ error: String(e && e.message ? e.message : e) }));
  }
});
