// The pass-through operator builder lives with the graph (train() uses it too).
export { passThrough, type PassThroughHandlers } from '../../graph/pass-through.js';
