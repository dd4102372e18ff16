// PLACEHOLDER (being replaced).
export function normaliseText(data: Uint8Array): Uint8Array {
  return data;
}
