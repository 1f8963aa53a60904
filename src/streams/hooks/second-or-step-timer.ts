import { ConfigError } from '../../errors.js';

/**
 * Fires every `everySteps` steps or every `everySecs` seconds (exactly one of
 * them), like tf.estimator.SecondOrStepTimer; the first check always fires.
 */
export class SecondOrStepTimer {
  private lastStep: number | undefined;
  private lastTimeMs: number | undefined;

  constructor(
    private readonly opts: { everySteps?: number; everySecs?: number },
    private readonly nowMs: () => number,
  ) {
    const { everySteps, everySecs } = opts;
    if (everySteps === undefined && everySecs === undefined) {
      throw new ConfigError('Either every_steps or every_secs should be provided (saveSteps / saveSecs)');
    }
    if (everySteps !== undefined && everySecs !== undefined) {
      throw new ConfigError('Can not provide both every_steps and every_secs (saveSteps / saveSecs)');
    }
  }

  shouldTriggerForStep(step: number): boolean {
    if (this.lastStep === undefined) return true;
    if (this.lastStep === step) return false;
    const { everySteps, everySecs } = this.opts;
    if (everySecs !== undefined && this.nowMs() >= this.lastTimeMs! + everySecs * 1000) return true;
    if (everySteps !== undefined && step >= this.lastStep + everySteps) return true;
    return false;
  }

  updateLastTriggeredStep(step: number): void {
    this.lastStep = step;
    this.lastTimeMs = this.nowMs();
  }

  get lastTriggeredStep(): number | undefined {
    return this.lastStep;
  }
}
