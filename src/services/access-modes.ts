/**
 * The CSI access modes and what each implies, read the same way by the controller and the node.
 */
export const ACCESS_MODES = [
  'SINGLE_NODE_WRITER',
  'SINGLE_NODE_READER_ONLY',
  'SINGLE_NODE_SINGLE_WRITER',
  'SINGLE_NODE_MULTI_WRITER',
  'MULTI_NODE_READER_ONLY',
  'MULTI_NODE_SINGLE_WRITER',
  'MULTI_NODE_MULTI_WRITER',
] as const;
export type AccessMode = (typeof ACCESS_MODES)[number];

const MULTI_NODE: ReadonlySet<AccessMode> = new Set(['MULTI_NODE_READER_ONLY', 'MULTI_NODE_SINGLE_WRITER', 'MULTI_NODE_MULTI_WRITER']);
const READ_ONLY: ReadonlySet<AccessMode> = new Set(['SINGLE_NODE_READER_ONLY', 'MULTI_NODE_READER_ONLY']);

/** Several nodes may attach the volume at once. */
export function isMultiNodeMode(mode: AccessMode): boolean {
  return MULTI_NODE.has(mode);
}

export function isReadOnlyMode(mode: AccessMode): boolean {
  return READ_ONLY.has(mode);
}

/** Written from one node only: no other client may have the volume open for writing. */
export function isSingleNodeWriterMode(mode: AccessMode): boolean {
  return !MULTI_NODE.has(mode) && !READ_ONLY.has(mode);
}
