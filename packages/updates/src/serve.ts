// Serves a repository's `public/` directory as static files, as any HTTP server or object store
// could: GET and HEAD only, no directory listings, nothing outside the directory.
import { createReadStream, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join, normalize, sep } from 'node:path';

/** A static file server over `root`. */
export function staticServer(root: string): Server {
  const base = normalize(root + sep);
  return createServer((req, res) => {
    const fail = (status: number, message: string) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`${message}\n`);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return fail(405, 'GET or HEAD only');
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      return fail(400, 'bad path');
    }
    const file = normalize(join(base, path));
    if (!file.startsWith(base)) return fail(404, 'not found');
    const st = statSync(file, { throwIfNoEntry: false });
    if (st === undefined || !st.isFile()) return fail(404, 'not found');
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': st.size });
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).pipe(res);
  });
}
