// The progress line lives with the graph: train() shows it by default on a terminal.
export { progressLine, type ProgressLineOptions, type ProgressFigures } from '../../graph/progress-line.js';
