// Reading an HTTP reply without trusting its size: at most `limit` bytes, else an error.
import { UpdateError } from './errors.js';

/** The body of `res`, refusing more than `limit` bytes; `what` names the source in messages. */
export async function readBounded(res: Response, limit: number, what: string): Promise<Buffer> {
  const reader = res.body?.getReader();
  if (reader === undefined) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > limit) {
        await reader.cancel();
        throw new UpdateError('E_FORMAT', `${what} sent more than ${limit} bytes`);
      }
      chunks.push(value);
    }
  } catch (e) {
    if (e instanceof UpdateError) throw e;
    throw new UpdateError('E_IO', `${what}: ${(e as Error).message}`, { cause: e });
  }
  return Buffer.concat(chunks);
}
