import type { Logger } from '../../log/logger.js';
import { errorMessage } from '../../util/errors.js';

/**
 * The steps one call completed, undone in reverse when the call fails. Undo runs without the
 * caller's signal: it is needed most exactly when that signal fired — but see `shouldUndo`.
 */
export class UndoStack {
  private readonly steps: { what: string; fn: () => Promise<unknown> }[] = [];

  push(what: string, fn: () => Promise<unknown>): void {
    this.steps.push({ what, fn });
  }

  /** Runs every step (most recent first); a failing step is logged and the rest still run. */
  async run(log: Logger): Promise<void> {
    for (const step of this.steps.reverse()) {
      try {
        await step.fn();
        log.info({ step: step.what }, 'undone after a failure');
      } catch (err) {
        log.error({ step: step.what, err: errorMessage(err) }, 'could not undo a step after a failure');
      }
    }
    this.steps.length = 0;
  }
}

/**
 * When the caller gave up (deadline or cancel), the error it gets is not final: kubelet keeps
 * the volume "uncertain" and either retries — which continues from the completed steps — or
 * calls NodeUnstage. Undoing then would only throw the progress away. Any other failure is
 * final for the CO, which will not call NodeUnstage, so the steps are undone.
 */
export function shouldUndo(signal: AbortSignal): boolean {
  return !signal.aborted;
}
