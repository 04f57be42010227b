// Public face of the kernel lab: replay a scenario in real Linux network namespaces (root only) and get, per
// step, what Linux did, for comparison with the emulator. See NOTES.md for what Linux was seen to do.

export { removeStaleNamespaces } from './cleanup.js';
export { type RunResult, run, runOk } from './exec.js';
export { kernelLabAvailable, LabTimeoutError, runKernelLab } from './lab.js';
export { LabNames } from './names.js';
export { type LabCommand, rewriteSetupLine, UnsupportedCommandError } from './rewrite.js';
export type {
  LabAvailability,
  LabCapturePoint,
  LabConnectStep,
  LabExtraCapture,
  LabFrame,
  LabIcmp,
  LabInput,
  LabListener,
  LabOptions,
  LabPacket,
  LabPingStep,
  LabPrepareContext,
  LabSetupLine,
  LabStep,
  LabStepResult,
} from './types.js';
