// compress.mjs - writes FILE.gz beside each text file of dist/ over 1 KB,
// which the coordinator sends to browsers that accept gzip (about a third
// of the bytes). Runs after `vite build` (npm run build).
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync, constants } from 'node:zlib';

const TEXT = /\.(js|mjs|css|html|svg|json|map|txt)$/;

function compress(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      compress(path);
    } else if (TEXT.test(name) && statSync(path).size > 1024) {
      const gz = gzipSync(readFileSync(path), { level: constants.Z_BEST_COMPRESSION });
      writeFileSync(`${path}.gz`, gz);
    }
  }
}

compress(new URL('../dist', import.meta.url).pathname);
