/**
 * Recovery steps "validate the chain" and "apply the manifest", as a pure
 * plan over what the scan found (Rust's recover_segments, Java's
 * SegmentRing recovery). Nothing on disk is changed here; a slot that
 * cannot be recovered throws before anything would be.
 *
 * - Segments with frames are the data, in baseSeq order; each must continue
 *   the previous one's FSNs.
 * - With a valid manifest, data below `headBase` is acknowledged residue a
 *   crash left (deleted), data across `headBase` or beyond `activeBase` is an
 *   error, the chain must start exactly at `headBase`, and the segment at
 *   `activeBase` must exist (it may be empty: a rotation committed, no frame
 *   yet).
 * - Without one (a legacy slot: ours before this format, or a crash before
 *   a fresh slot's manifest), the contiguous data is the chain, or one clean
 *   empty segment (Java's `sf-initial.sfa` preferred) when there is none; a
 *   flagged segment without a valid manifest is an error, since the flag
 *   promises one.
 * - Every other file is removed (empty leftovers) or quarantined to
 *   `.corrupt` (bad headers, empty files with a torn tail), after the chain
 *   validated.
 */
import { FsnGapError, RecoveryError } from '../errors.js';
import { INITIAL_SEGMENT_FILE_NAME } from '../format.js';
import type { ManifestState } from '../slot-files/manifest.js';
import type { CorruptFile, ScannedSegment, SlotScan } from './scan-step.js';

/** What to do with the slot's files. */
export interface ChainPlan {
  /** 'chain': these segments, oldest first, the last one active; 'fresh': none survives. */
  kind: 'chain' | 'fresh';
  chain: ScannedSegment[];
  /** No valid manifest: it is created from the chain (and the chain stamped). */
  legacy: boolean;
  /** Segments to delete: empty leftovers, and acknowledged ones below the manifest's head. */
  remove: ScannedSegment[];
  /** Files to rename to `.corrupt`. */
  quarantine: (ScannedSegment | CorruptFile)[];
  /** What happens to `sf-manifest.bin`. */
  manifest: 'keep' | 'create' | 'remove' | 'none';
  /** The invalid manifest is moved aside first (to `.corrupt`). */
  quarantineManifest: boolean;
}

/** Throws {@link FsnGapError} unless each segment continues the previous one's FSNs. */
export function checkContiguous(segments: readonly ScannedSegment[]): void {
  for (let i = 1; i < segments.length; i++) {
    const prev = segments[i - 1]!;
    const next = segments[i]!;
    if (prev.baseSeq + prev.frameCount !== next.baseSeq) {
      throw new FsnGapError(prev.path, prev.baseSeq + prev.frameCount, next.path, next.baseSeq);
    }
  }
}

/** Plans recovery of `scan` under `manifest`; throws when the slot cannot be recovered. */
export function planChain(scan: SlotScan, manifest: ManifestState): ChainPlan {
  const dir = scan.dir;
  const all = scan.segments;
  const valid = manifest.kind === 'valid' ? manifest.bounds : undefined;
  const quarantineManifest = manifest.kind === 'invalid';
  const data = all.filter((s) => s.frameCount > 0);

  const extras = (chain: readonly ScannedSegment[]) => {
    const kept = new Set(chain);
    const remove: ScannedSegment[] = [];
    const quarantine: (ScannedSegment | CorruptFile)[] = [];
    for (const s of all) {
      if (kept.has(s)) continue;
      if (s.tornTailBytes > 0) quarantine.push(s);
      else remove.push(s);
    }
    quarantine.push(...scan.corrupt);
    return { remove, quarantine };
  };

  if (all.length === 0) {
    if (scan.corrupt.length > 0 && valid !== undefined) {
      throw new RecoveryError(
        `every segment of ${dir} is corrupt but its manifest commits FSNs from ${valid.headBase}: ${scan.corrupt.map((c) => c.name).join(', ')}`,
        dir,
      );
    }
    if (valid !== undefined && valid.headBase !== valid.activeBase) {
      throw new RecoveryError(
        `the manifest of ${dir} commits segments from FSN ${valid.headBase} to ${valid.activeBase} but no segment file exists`,
        dir,
      );
    }
    return {
      kind: 'fresh',
      chain: [],
      legacy: valid === undefined,
      ...extras([]),
      manifest: valid !== undefined ? 'remove' : 'none',
      quarantineManifest,
    };
  }

  const flagged = all.find((s) => s.manifestRequired);
  if (valid === undefined && flagged !== undefined) {
    throw new RecoveryError(
      manifest.kind === 'invalid'
        ? `${flagged.path} requires sf-manifest.bin but it is unusable (${manifest.reason})`
        : `${flagged.path} requires sf-manifest.bin but ${dir} has none`,
      dir,
    );
  }

  if (valid === undefined) {
    if (data.length > 0) {
      checkContiguous(data);
      return {
        kind: 'chain',
        chain: data,
        legacy: true,
        ...extras(data),
        manifest: 'create',
        quarantineManifest,
      };
    }
    const empty = chooseLegacyEmpty(all);
    if (empty === undefined) {
      return {
        kind: 'fresh',
        chain: [],
        legacy: true,
        ...extras([]),
        manifest: 'none',
        quarantineManifest,
      };
    }
    return {
      kind: 'chain',
      chain: [empty],
      legacy: true,
      ...extras([empty]),
      manifest: 'create',
      quarantineManifest,
    };
  }

  const { headBase, activeBase } = valid;
  const chain: ScannedSegment[] = [];
  for (const s of data) {
    const end = s.baseSeq + s.frameCount;
    if (s.baseSeq < headBase) {
      if (end > headBase) {
        throw new RecoveryError(
          `${s.path} holds FSNs ${s.baseSeq}..${end - 1}, across the manifest's head at ${headBase}`,
          dir,
        );
      }
      continue; // acknowledged and trimmed; its unlink did not survive a crash
    }
    if (s.baseSeq > activeBase) {
      throw new RecoveryError(
        `${s.path} holds frames from FSN ${s.baseSeq}, beyond the manifest's active segment at ${activeBase}`,
        dir,
      );
    }
    chain.push(s);
  }
  if (chain.length > 0) {
    checkContiguous(chain);
    if (chain[0]!.baseSeq !== headBase) {
      throw new RecoveryError(
        `the manifest's head segment (FSN ${headBase}) of ${dir} is missing; the oldest segment starts at ${chain[0]!.baseSeq}`,
        dir,
      );
    }
  }
  const active = findActive(all, activeBase);
  if (active === undefined) {
    if (chain.length === 0 && headBase === activeBase && scan.corrupt.length === 0) {
      // A fully drained close that crashed before removing the manifest.
      return {
        kind: 'fresh',
        chain: [],
        legacy: false,
        ...extras([]),
        manifest: 'remove',
        quarantineManifest,
      };
    }
    throw new RecoveryError(
      `the manifest's active segment (FSN ${activeBase}) of ${dir} is missing`,
      dir,
    );
  }
  if (chain.length === 0) {
    if (headBase !== activeBase || active.frameCount !== 0 || scan.corrupt.length > 0) {
      throw new RecoveryError(
        `${dir} has no segment between the manifest's head (FSN ${headBase}) and active (FSN ${activeBase}) segments`,
        dir,
      );
    }
    chain.push(active);
  } else if (chain[chain.length - 1] !== active) {
    const tail = chain[chain.length - 1]!;
    const end = tail.baseSeq + tail.frameCount;
    if (scan.corrupt.length > 0 || active.frameCount !== 0 || active.baseSeq !== end) {
      throw new RecoveryError(
        `the manifest's active segment (FSN ${activeBase}) of ${dir} does not continue ${tail.path}, which ends before FSN ${end}`,
        dir,
      );
    }
    chain.push(active);
  }
  return {
    kind: 'chain',
    chain,
    legacy: false,
    ...extras(chain),
    manifest: 'keep',
    quarantineManifest,
  };
}

/** A legacy slot without frames keeps one clean empty segment, Java's `sf-initial.sfa` first. */
function chooseLegacyEmpty(all: readonly ScannedSegment[]): ScannedSegment | undefined {
  let chosen: ScannedSegment | undefined;
  for (const s of all) {
    if (s.frameCount !== 0 || s.tornTailBytes !== 0) continue;
    if (chosen === undefined || s.name === INITIAL_SEGMENT_FILE_NAME) chosen = s;
  }
  return chosen;
}

/** The segment at `activeBase`: one with frames first, then an empty one with a torn tail, then a clean empty one. */
function findActive(
  all: readonly ScannedSegment[],
  activeBase: number,
): ScannedSegment | undefined {
  let tornEmpty: ScannedSegment | undefined;
  let cleanEmpty: ScannedSegment | undefined;
  for (const s of all) {
    if (s.baseSeq !== activeBase) continue;
    if (s.frameCount > 0) return s;
    if (s.tornTailBytes > 0) tornEmpty ??= s;
    else cleanEmpty ??= s;
  }
  return tornEmpty ?? cleanEmpty;
}
