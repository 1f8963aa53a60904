import { ConfigError } from '../errors.js';

/**
 * Regularization that grows with a table's vocabulary: the segment's L2
 * regularization (FTRL and group-FTRL L2, every weight decay) is multiplied by
 * max(1, V / reference)^exponent, V = `vocabulary` when given, else the number
 * of ids the table holds so far (counted as ids arrive, so it needs no
 * knowledge of the data). A slot of many ids, most of them rare, then keeps
 * its weights near 0 until an id's gradients outweigh the stronger
 * regularization; a slot of few ids is regularized as configured.
 */
export interface VocabularyRegularization {
  /** Default 1. */
  exponent?: number;
  /** Vocabulary at and below which the configured strengths apply unchanged (default 100). */
  reference?: number;
  /** The slot's vocabulary when known (used instead of the count of ids held). */
  vocabulary?: number;
}

export const VOCABULARY_REGULARIZATION_DEFAULTS = { exponent: 1, reference: 100 };

/** Checks a VocabularyRegularization; `where` names the segment in errors. */
export function checkVocabularyRegularization(c: VocabularyRegularization, where: string): Required<Omit<VocabularyRegularization, 'vocabulary'>> & { vocabulary?: number } {
  const exponent = c.exponent ?? VOCABULARY_REGULARIZATION_DEFAULTS.exponent;
  const reference = c.reference ?? VOCABULARY_REGULARIZATION_DEFAULTS.reference;
  if (!Number.isFinite(exponent) || exponent < 0) throw new ConfigError(`${where}: vocabularyRegularization.exponent must be a finite number >= 0, got ${String(c.exponent)}`);
  if (!Number.isFinite(reference) || reference <= 0) throw new ConfigError(`${where}: vocabularyRegularization.reference must be a positive number, got ${String(c.reference)}`);
  if (c.vocabulary != null && !(Number.isFinite(c.vocabulary) && c.vocabulary >= 0)) {
    throw new ConfigError(`${where}: vocabularyRegularization.vocabulary must be a number >= 0, got ${String(c.vocabulary)}`);
  }
  return c.vocabulary != null ? { exponent, reference, vocabulary: c.vocabulary } : { exponent, reference };
}

/** The factor for a table holding `held` ids. */
export function vocabularyRegularizationFactor(c: { exponent: number; reference: number; vocabulary?: number }, held: number): number {
  const v = c.vocabulary ?? held;
  return v <= c.reference ? 1 : Math.pow(v / c.reference, c.exponent);
}
