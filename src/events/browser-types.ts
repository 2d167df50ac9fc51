import type { EventType } from './types.ts'

/**
 * Types a browser may send to `POST /e`; the rest only come from authenticated back ends. The
 * tracker (src/tracker) bundles this same list, so the page drops what the server would refuse.
 */
export const BROWSER_TYPES = [
  'page_view',
  'feature_used',
  'asset_downloaded',
  'asset_shared',
] as const satisfies readonly EventType[]
