// PLACEHOLDER (being replaced).
export interface HtmlViews {
  readonly views: readonly Uint8Array[];
  readonly limitHit: boolean;
}
export function normaliseHtml(data: Uint8Array, _opts: { maxBytes: number }): HtmlViews {
  return { views: [data], limitHit: false };
}
