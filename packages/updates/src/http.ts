// HTTP without trusting the other side: a deadline on each request, and at most `limit` bytes
// of a reply (an error past it, or only its beginning when that is all that is wanted).
import { UpdateError } from './errors.js';

/** `fetch` with a deadline; a request that fails or times out is an E_IO naming `what`. */
export async function request(url: string, init: RequestInit, timeoutMs: number, what = url): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    throw new UpdateError('E_IO', `${what}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * The body of `res`, refusing more than `limit` bytes (`prefix`: returning only the first `limit`
 * bytes instead); `what` names the source in messages.
 */
export async function readBounded(res: Response, limit: number, what: string, prefix = false): Promise<Buffer> {
  const reader = res.body?.getReader();
  if (reader === undefined) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      chunks.push(value);
      if (size >= limit && prefix) {
        await reader.cancel();
        return Buffer.concat(chunks).subarray(0, limit);
      }
      if (size > limit) {
        await reader.cancel();
        throw new UpdateError('E_FORMAT', `${what} sent more than ${limit} bytes`);
      }
    }
  } catch (e) {
    if (e instanceof UpdateError) throw e;
    throw new UpdateError('E_IO', `${what}: ${(e as Error).message}`, { cause: e });
  }
  return Buffer.concat(chunks);
}
