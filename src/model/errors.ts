import { ConfigError, MonolithError } from '../errors.js';

/** `lookupEmbeddingSlice` was given features in none of the accepted shapes (Monolith: `ValueError("ValueError for features")`). */
export class FeaturesShapeError extends ConfigError {}

/** Group pooling asked for while a layout factory (fused layout) is in use (Monolith: `ValueError`). */
export class FusedLayoutError extends ConfigError {}

/** A mode the model function cannot run in (Monolith: `ValueError('model error!')`). */
export class ModeError extends MonolithError {}

/** A second extra output or signature with a name already taken (Monolith: `KeyError`). */
export class DuplicateOutputError extends MonolithError {}

/** A shared embedding whose owner cannot be resolved (Monolith: a plain `Exception`). */
export class SharedEmbeddingError extends ConfigError {}
