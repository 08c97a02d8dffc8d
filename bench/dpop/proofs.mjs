// DPoP proofs (RFC 9449 §4.2) for the DPoP load row, generated before the load so that the load
// generator does no signing: one fresh P-256 key, ES256, `typ: dpop+jwt`, the public `jwk` in the
// header, and per proof a unique `jti`, `htm: POST`, `htu` = the token endpoint, `iat` = now.
// Node's built-in crypto only (no npm packages); worker threads use every core.
//
//   node proofs.mjs --htu URL --one
//       prints one complete proof (for the check request before the load)
//   node proofs.mjs --htu URL --out DIR --counts N0,N1,...
//       writes DIR/header.txt (the base64url header and the dot, the same for every proof),
//       DIR/proofs-<i>.txt with N<i> lines "payload.signature" (wrk-dpop.lua prepends the
//       header), DIR/next = 0 (the file counter wrk-dpop.lua claims files with) and DIR/iat
//       (the proofs' iat, seconds since the epoch)
import { generateKeyPairSync, sign, createPrivateKey, randomBytes } from 'node:crypto';
import { openSync, writeSync, closeSync, writeFileSync, mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const b64u = (x) => Buffer.from(x).toString('base64url');

// "payload.signature" of one proof; the signing input is "header.payload" (RFC 7515 §5.1).
function signed(headerB64, privateKey, htu, iat, jti) {
  const payload = b64u(JSON.stringify({ jti, htm: 'POST', htu, iat }));
  const input = `${headerB64}.${payload}`;
  const sig = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${payload}.${sig.toString('base64url')}`;
}

function writeFiles({ pem, headerB64, htu, iat, out, files, prefix }) {
  const privateKey = createPrivateKey(pem);
  for (const [index, count] of files) {
    const fd = openSync(`${out}/proofs-${index}.txt`, 'w');
    let chunk = [];
    for (let i = 0; i < count; i += 1) {
      chunk.push(signed(headerB64, privateKey, htu, iat, `${prefix}.${index}.${i}`));
      if (chunk.length === 10000) {
        writeSync(fd, `${chunk.join('\n')}\n`);
        chunk = [];
      }
    }
    if (chunk.length) writeSync(fd, `${chunk.join('\n')}\n`);
    closeSync(fd);
  }
}

if (!isMainThread) {
  writeFiles(workerData);
  parentPort.postMessage('done');
} else {
  const args = process.argv.slice(2);
  const arg = (name) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const htu = arg('--htu');
  if (!htu) {
    console.error('usage: proofs.mjs --htu URL (--one | --out DIR --counts N0,N1,...)');
    process.exit(2);
  }
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });
  const headerB64 = b64u(JSON.stringify({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty, crv, x, y } }));
  const iat = Math.floor(Date.now() / 1000);
  const prefix = randomBytes(9).toString('base64url');
  if (args.includes('--one')) {
    console.log(`${headerB64}.${signed(headerB64, privateKey, htu, iat, prefix)}`);
  } else {
    const out = arg('--out');
    const counts = (arg('--counts') || '').split(',').filter(Boolean).map(Number);
    if (!out || !counts.length || counts.some((n) => !Number.isInteger(n) || n < 1)) {
      console.error('--out DIR and --counts N0,N1,... (positive integers) are required');
      process.exit(2);
    }
    mkdirSync(out, { recursive: true });
    writeFileSync(`${out}/header.txt`, `${headerB64}.\n`);
    writeFileSync(`${out}/next`, '0\n');
    writeFileSync(`${out}/iat`, `${iat}\n`);
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' });
    // Deal the files out to one worker per core, largest first, for even work.
    const workers = Math.max(1, Math.min(availableParallelism(), counts.length));
    const shares = Array.from({ length: workers }, () => ({ files: [], total: 0 }));
    counts
      .map((n, i) => [i, n])
      .sort((a, b) => b[1] - a[1])
      .forEach((file) => {
        const least = shares.reduce((a, b) => (b.total < a.total ? b : a));
        least.files.push(file);
        least.total += file[1];
      });
    const started = Date.now();
    await Promise.all(shares.map(({ files }) => new Promise((resolve, reject) => {
      const w = new Worker(new URL(import.meta.url), {
        workerData: { pem, headerB64, htu, iat, out, files, prefix },
      });
      w.on('message', resolve);
      w.on('error', reject);
    })));
    const total = counts.reduce((a, b) => a + b, 0);
    console.error(`${total} proofs in ${counts.length} files (${workers} workers, ${((Date.now() - started) / 1000).toFixed(1)} s), iat ${iat}, htu ${htu}`);
  }
}
