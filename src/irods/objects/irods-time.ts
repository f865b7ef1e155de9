/**
 * Times as iRODS writes them in its catalog and in `RodsObjStat_PI`:
 * seconds since the epoch, zero-padded to 11 digits (iRODS 4.3.5
 * `getNowStr`, `"%011d"`).
 *
 * @module
 */

/** The iRODS time string of an ISO timestamp from the catalog. */
export function irodsTime(iso: string): string {
  const ms = Date.parse(iso);
  const seconds = Number.isFinite(ms) ? Math.floor(ms / 1000) : 0;
  return String(seconds).padStart(11, '0');
}
