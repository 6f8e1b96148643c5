import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type InspectedSegment,
  inspectSegmentFile,
  inspectSlot,
  inspectSymbolDict,
  type SegmentScan,
  type SlotInspection,
  type SymbolDictScan,
} from '@qwp/segment-log/inspect';
import type { Command } from '../io.js';
import { UsageError } from '../io.js';

const HELP = `usage: qwp sf inspect PATH [--json]

Shows a store-and-forward slot directory, one segment (.sfa) or one symbol
dictionary (.symbol-dict). Files are opened read-only and never modified or
truncated (the lock probe holds a free .lock for microseconds; a sender
starting at that moment retries and still gets it).

  --json   print JSON. FSNs, offsets and sizes are plain numbers: a segment
           whose baseSeq exceeds 2^53-1 is reported as corrupt, so every
           value fits a JSON number exactly.

A slot's JSON keys, in order:
  slot          the directory
  lock          { held, pid } (pid from .lock.pid, null when unknown), or null without .lock
  manifest      sf-manifest.bin: { file, generation, headBase, activeBase },
                { file, error } when unusable, or null when absent
  watermark     .ack-watermark: { file, generation, ackedFsn } (-1: none acknowledged),
                { file, error } when unusable, or null when absent
  segments      every *.sfa: { file, generation, role, baseSeq, flags, frames,
                appendOffset, tornTailBytes, payloadBytes } or { file, generation,
                role, error }; generation is the one in its name (null for
                sf-initial.sfa and foreign names: names carry no FSN); flags
                bit 0 is MANIFEST_REQUIRED; role is what a recovery would do:
                "chain" (kept), "empty" or "acknowledged" (deleted), "corrupt"
                (renamed .corrupt), null when it would refuse the slot
  dictionary    { file, entries, validLength, tornTailBytes }, { file, error }, or null
  frames, firstFsn, lastFsn, tornTailBytes   over the segments (FSNs null when no frame)
  gaps          [{ previous, expected, next, found }] between segments with frames
  problem       why a recovery would refuse the slot as it is, or null
  quarantined   *.corrupt files
  unrecognized  files the slot format does not define (left alone)
  failed        the reason in .failed (null when absent): orphan adoption skips the slot

Exit status: 0 when a recovery would open the slot and every file read is
valid (a torn tail is reported, not an error), 1 otherwise.
`;

/** `qwp sf inspect`: reports a slot, segment or dictionary without changing it. */
export const sfInspect: Command = async (argv, io) => {
  let parsed: { path: string | undefined; json: boolean; help: boolean };
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (positionals.length > 1) throw new Error(`expected one PATH, got ${positionals.length}`);
    parsed = { path: positionals[0], json: values.json === true, help: values.help === true };
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${HELP}`, { cause: err });
  }
  if (parsed.help) {
    io.stdout.write(HELP);
    return 0;
  }
  if (parsed.path === undefined) throw new UsageError(`missing PATH\n${HELP}`);
  const path = parsed.path.replace(/(?<=.)\/+$/, '');
  const write = (text: string) => io.stdout.write(text);
  try {
    const kind = kindOf(path);
    if (kind === 'slot') {
      const slot = inspectSlot(path);
      write(parsed.json ? `${JSON.stringify(slotJson(slot), null, 2)}\n` : slotText(slot));
      const broken =
        slot.problem !== null ||
        slot.gaps.length > 0 ||
        slot.segments.some((s) => s.error !== undefined && s.role !== 'corrupt') ||
        (slot.dictionary !== null && 'error' in slot.dictionary);
      return broken ? 1 : 0;
    }
    if (kind === 'segment') {
      const scan = inspectSegmentFile(path);
      write(
        parsed.json
          ? `${JSON.stringify(segmentJson(path, scan), null, 2)}\n`
          : segmentLine(path, scan),
      );
      return 0;
    }
    const dict = inspectSymbolDict(path);
    write(
      parsed.json ? `${JSON.stringify(dictJson(path, dict), null, 2)}\n` : dictText(path, dict),
    );
    return 0;
  } catch (err) {
    io.stderr.write(`qwp sf inspect: ${(err as Error).message}\n`);
    return 1;
  }
};

/** A directory is a slot; a file is told apart by its magic (SF01 / SYD1), then by its name. */
function kindOf(path: string): 'slot' | 'segment' | 'dict' {
  if (statSync(path).isDirectory()) return 'slot';
  const fd = openSync(path, 'r');
  const head = new Uint8Array(4);
  try {
    readSync(fd, head, 0, 4, 0);
  } finally {
    closeSync(fd);
  }
  const magic = Buffer.from(head).toString('latin1');
  if (magic === 'SF01') return 'segment';
  if (magic === 'SYD1') return 'dict';
  return basename(path).endsWith('.symbol-dict') ? 'dict' : 'segment';
}

function segmentJson(file: string, s: SegmentScan) {
  return {
    file,
    baseSeq: s.baseSeq,
    flags: s.flags,
    frames: s.frameCount,
    appendOffset: s.appendOffset,
    tornTailBytes: s.tornTailBytes,
    payloadBytes: s.payloadBytes,
  };
}

function dictJson(file: string, d: SymbolDictScan) {
  return { file, entries: d.entries, validLength: d.validLength, tornTailBytes: d.tornTailBytes };
}

function inspectedJson(s: InspectedSegment) {
  const who = { file: s.file, generation: s.generation, role: s.role };
  if (s.error !== undefined) return { ...who, error: s.error.message };
  const { file: _file, ...rest } = segmentJson(s.file, s);
  return { ...who, ...rest };
}

function slotJson(slot: SlotInspection) {
  const d = slot.dictionary;
  return {
    slot: slot.slotDir,
    lock: slot.lock === null ? null : { held: slot.lock.held, pid: slot.lock.pid ?? null },
    manifest: slot.manifest,
    watermark: slot.watermark,
    segments: slot.segments.map(inspectedJson),
    dictionary:
      d === null
        ? null
        : 'error' in d
          ? { file: d.file, error: d.error.message }
          : dictJson(d.file, d),
    frames: slot.frames,
    firstFsn: slot.firstFsn < 0 ? null : slot.firstFsn,
    lastFsn: slot.lastFsn < 0 ? null : slot.lastFsn,
    tornTailBytes: slot.tornTailBytes,
    gaps: slot.gaps,
    problem: slot.problem,
    quarantined: slot.quarantined,
    unrecognized: slot.unrecognized,
    failed: slot.failed,
  };
}

/** `, TORN TAIL n bytes` when a file has a torn tail, else nothing. */
function tornSuffix(bytes: number): string {
  return bytes > 0 ? `, TORN TAIL ${bytes} bytes` : '';
}

function segmentLine(file: string, s: SegmentScan): string {
  const last = s.frameCount > 0 ? `..${s.baseSeq + s.frameCount - 1}` : ' (empty)';
  const flag = (s.flags & 1) !== 0 ? ', MANIFEST_REQUIRED' : '';
  return `${file}: FSN ${s.baseSeq}${last}, ${s.frameCount} frame(s), ${s.payloadBytes} payload bytes, append offset ${s.appendOffset}${flag}${tornSuffix(s.tornTailBytes)}\n`;
}

function dictText(file: string, d: SymbolDictScan): string {
  const lines = [
    `${file}: ${d.entries.length} symbol(s) in ${d.chunks} chunk(s), valid length ${d.validLength}${tornSuffix(d.tornTailBytes)}\n`,
  ];
  for (let i = 0; i < d.entries.length; i++)
    lines.push(`  ${i}: ${JSON.stringify(d.entries[i])}\n`);
  return lines.join('');
}

function slotText(slot: SlotInspection): string {
  const out: string[] = [`slot ${slot.slotDir}\n`];
  const l = slot.lock;
  out.push(
    l === null
      ? 'lock: no .lock file\n'
      : `lock: ${l.held ? 'HELD' : 'free'}${l.pid !== undefined ? ` (pid ${l.pid}${l.held ? '' : ', last holder'})` : ''}\n`,
  );
  const m = slot.manifest;
  out.push(
    m === null
      ? 'manifest: none\n'
      : 'error' in m
        ? `manifest: UNUSABLE ${m.error}\n`
        : `manifest: head FSN ${m.headBase}, active FSN ${m.activeBase} (generation ${m.generation})\n`,
  );
  const w = slot.watermark;
  out.push(
    w === null
      ? 'ack watermark: none\n'
      : 'error' in w
        ? `ack watermark: UNUSABLE ${w.error}\n`
        : `ack watermark: ${w.ackedFsn < 0 ? 'nothing acknowledged' : `FSN ${w.ackedFsn} acknowledged`} (generation ${w.generation})\n`,
  );
  out.push(
    slot.frames > 0
      ? `frames: ${slot.frames}, FSN ${slot.firstFsn}..${slot.lastFsn}\n`
      : 'frames: none\n',
  );
  if (slot.tornTailBytes > 0) out.push(`torn tail bytes: ${slot.tornTailBytes}\n`);
  if (slot.failed !== null) out.push(`FAILED (.failed, orphan scans skip it): ${slot.failed}\n`);
  if (slot.problem !== null) out.push(`RECOVERY WOULD REFUSE IT: ${slot.problem}\n`);
  out.push(`segments: ${slot.segments.length}\n`);
  for (const s of slot.segments) {
    const tag = `[gen ${s.generation ?? '-'}${s.role !== null ? `, ${s.role}` : ''}] `;
    out.push(
      s.error !== undefined
        ? `  ${tag}${s.file}: ERROR ${s.error.message}\n`
        : `  ${tag}${segmentLine(s.file, s)}`,
    );
  }
  for (const g of slot.gaps) {
    out.push(
      `FSN GAP: ${g.previous} ends before ${g.expected} but ${g.next} starts at ${g.found}\n`,
    );
  }
  for (const f of slot.quarantined) out.push(`quarantined: ${f}\n`);
  for (const f of slot.unrecognized) out.push(`not part of the slot format: ${f}\n`);
  const d = slot.dictionary;
  if (d === null) out.push('dictionary: none\n');
  else if ('error' in d) out.push(`dictionary: ERROR ${d.error.message}\n`);
  else {
    out.push(
      `dictionary: ${d.entries.length} symbol(s), valid length ${d.validLength}${tornSuffix(d.tornTailBytes)}\n`,
    );
  }
  return out.join('');
}
