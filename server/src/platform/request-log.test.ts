import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createHttp } from './http.ts';
import { Metrics } from './metrics.ts';

/** What the request log holds after one GET of `url`. */
async function logged(url: string): Promise<string> {
  const lines: string[] = [];
  const app = await createHttp({
    bodyLimit: 1_000_000,
    logLevel: 'info',
    publicUrl: 'http://localhost',
    metrics: new Metrics(),
    tags: [],
    logStream: { write: (line) => lines.push(line) },
  });
  app.get(new URL(url, 'http://x').pathname, async () => ({ ok: true }));
  assert.equal((await app.inject(url)).statusCode, 200);
  await app.close();
  return lines.join('');
}

test('the request log keeps the masks of a resident ID and a mobile number in the query string, not the numbers', async () => {
  const log = await logged('/look-up?residentId=11010119900307001X&mobile=13800138000&purpose=%E6%9D%A5%E7%94%B5');
  assert.match(log, /"url":"\/look-up\?residentId=110101\*{8}001X&mobile=138\*{4}8000&purpose=/);
  assert.doesNotMatch(log, /11010119900307001X|13800138000/);
  // an order number has digits in it, but neither shape: kept as it is
  assert.match(await logged('/orders?q=P9901002611272052399F29AEF678'), /q=P9901002611272052399F29AEF678/);
});
