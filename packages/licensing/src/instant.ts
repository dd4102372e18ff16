// Instants as policies write them: a calendar date `YYYY-MM-DD` (the start of that day in UTC) or
// a full ISO 8601 instant with its time zone. Parsing is strict (no 2024-02-30, no local times)
// and gives milliseconds since the epoch; formatting gives back the shortest exact form.

/** Milliseconds in a day. */
export const DAY_MS = 86_400_000;

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|([+-])(\d{2}):(\d{2}))$/;

function utc(year: number, month: number, day: number): number | undefined {
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  // A day past the end of its month rolls over into the next one: that is how 02-30 is caught.
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return undefined;
  return d.getTime();
}

/**
 * Parses `YYYY-MM-DD` (start of that day, UTC) or an ISO 8601 instant with `Z` or a `±hh:mm`
 * offset, to milliseconds since the epoch; `undefined` when `text` is neither.
 */
export function parseInstant(text: string): number | undefined {
  const date = DATE.exec(text);
  if (date) return utc(Number(date[1]), Number(date[2]), Number(date[3]));
  const m = INSTANT.exec(text);
  if (!m) return undefined;
  const day = utc(Number(m[1]), Number(m[2]), Number(m[3]));
  const [hour, minute, second] = [Number(m[4]), Number(m[5]), Number(m[6] ?? '0')];
  if (day === undefined || hour > 23 || minute > 59 || second > 59) return undefined;
  const millis = Number((m[7] ?? '0').padEnd(3, '0').slice(0, 3));
  let offset = 0;
  if (m[8] !== 'Z') {
    const [oh, om] = [Number(m[10]), Number(m[11])];
    if (oh > 14 || om > 59) return undefined;
    offset = (m[9] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  return day + ((hour * 60 + minute) * 60 + second) * 1000 + millis - offset;
}

/** Formats an instant as `YYYY-MM-DD` when it is a UTC midnight, else as a full ISO instant. */
export function formatInstant(ms: number): string {
  const iso = new Date(ms).toISOString();
  return ms % DAY_MS === 0 ? iso.slice(0, 10) : iso;
}
