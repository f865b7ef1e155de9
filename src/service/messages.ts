/**
 * The service's answer texts (protocol section 2): the one place for each
 * status string a client or the SODAR backend may match on.
 *
 * @module
 */

/** Plain-text answers with fixed wording. */
export const Text = {
  ok: 'True',
  hello: 'Hello world from sodar_taskflow!',
  notAuthorized: 'Not authorized',
  lockBusy: 'Unable to acquire project lock',
  cleanupNotAllowed: 'iRODS cleanup not allowed',
  cleanupOk: 'OK',
  asyncOk: 'Async submit OK',
} as const;

/** Most characters of a caller's own text an answer or a log line repeats back: a name of megabytes is cut, not echoed. */
export const ECHO_MAX_CHARS = 200;

/** `text` as an answer or log line may repeat it: at most {@link ECHO_MAX_CHARS} characters, then `…`. */
export const echoed = (text: string): string => (text.length > ECHO_MAX_CHARS ? `${text.slice(0, ECHO_MAX_CHARS)}…` : text);

/** `Missing or invalid argument: "<field>"` (step 1). */
export const missingArgument = (field: string): string => `Missing or invalid argument: "${field}"`;
/** `Flow "<name>" not supported` (step 3). */
export const flowNotSupported = (name: string): string => `Flow "${echoed(name)}" not supported`;
/** `Error initializing iRODS: ...` (step 4). */
export const storeInitError = (reason: string): string => `Error initializing iRODS: ${reason}`;
/** `Error validating flow: ...` (step 5). */
export const validationError = (reason: string): string => `Error validating flow: ${reason}`;
/** `Unable to acquire project lock: <reason>`: the lock backend failed (we fail closed). */
export const lockBackendError = (reason: string): string => `${Text.lockBusy}: ${reason}`;
/** `Error building flow: ...` (step 6). */
export const buildError = (reason: string): string => `Error building flow: ${reason}`;
/** `Error running flow: <reason>` (step 6). */
export const runError = (reason: string): string => `Error running flow: ${reason}`;
/** Timeline text of a failed async run (step 7). */
export const asyncRunError = (reason: string): string => `Error running async flow: ${reason}`;
/** The status of a submit refused because its timeline event was fenced (see `PUT /runs/fences/<uuid>`). */
export const FENCED_STATUS = 409;
/** Why a submit whose timeline event was fenced is refused: the site took its change back, so the flow must never run. */
export const fencedSubmit = (timelineUuid: string, fencedAt: string): string =>
  `Submit refused: timeline event "${echoed(timelineUuid)}" was fenced at ${fencedAt} (the site took back its change, as no run carried the event then); this flow runs nowhere`;
/** `Error during cleanup: ...`. */
export const cleanupError = (reason: string): string => `Error during cleanup: ${reason}`;

/** Message of any thrown value, for answers and logs. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

/**
 * A validate-only check refused at the per-project limit. The wording follows
 * SODAR's own refusal (v1.1.4 `landingzones/views.py` ZONE_VALIDATE_LIMIT_MSG,
 * answered 503) and names our setting.
 */
export const zoneValidateLimitReached = (limit: number): string =>
  `Landing zone validation limit per project (${limit}, TASKFLOW_ZONE_VALIDATE_LIMIT) reached, please wait for ongoing validation jobs to finish before initiating new ones`;
/** A zone with more files than the limit (refused 400: waiting does not help). */
export const zoneFileLimitExceeded = (files: number, limit: number): string =>
  `Landing zone holds ${files} files, more than the limit of ${limit} files per zone (TASKFLOW_ZONE_FILE_LIMIT); split the upload into several zones`;
