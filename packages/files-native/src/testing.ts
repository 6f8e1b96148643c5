/**
 * Fault injection for tests: {@link FaultInjectingFiles} wraps a
 * {@link FilesFacade} and fails, or cuts short, the calls a fault names,
 * with the same error shape a real failure has ({@link InjectedFaultError}).
 *
 * @module testing
 */

export { InjectedFaultError } from './errors.js';
export type { FilesFacade } from './facade.js';
export {
  type Fault,
  FaultInjectingFiles,
  type FaultOp,
  type FaultOptions,
  type FaultTrigger,
} from './fault-injecting-files.js';
