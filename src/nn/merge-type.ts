/** `MergeType`: how `mergeTensorList` combines tensors (`null`: leave them as a list). */
export const MergeType = {
  CONCAT: 'concat',
  STACK: 'stack',
  NONE: null,
} as const;
export type MergeType = (typeof MergeType)[keyof typeof MergeType];

/** `DCNType`: the cross-layer kinds of DCN. */
export const DCNType = {
  Vector: 'vector',
  Matrix: 'matrix',
  Mixed: 'mixed',
} as const;
export type DCNType = (typeof DCNType)[keyof typeof DCNType];
