// Writes a Brotli (.br) and a gzip (.gz) copy beside each built web asset, once at build time, so
// the server sends them compressed (@fastify/static `preCompressed`) without compressing per request.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';

const ASSETS = path.resolve(import.meta.dirname, '../dist/web/assets');
const br = promisify(brotliCompress);
const gz = promisify(gzip);

let raw = 0;
let packed = 0;
for (const name of await readdir(ASSETS)) {
  if (!/\.(js|css|svg|json)$/.test(name)) continue;
  const file = path.join(ASSETS, name);
  const data = await readFile(file);
  const brotli = await br(data, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 11,
      [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
    },
  });
  await writeFile(`${file}.br`, brotli);
  await writeFile(`${file}.gz`, await gz(data, { level: 9 }));
  raw += data.length;
  packed += brotli.length;
}
console.log(
  `web assets: ${Math.round(raw / 1024)} KiB, ${Math.round(packed / 1024)} KiB with Brotli`,
);
