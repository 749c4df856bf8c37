// What the room plays at any server time: a list of changes, each taking effect at its anchor.
//
// A playback change is stamped with a server time slightly in the future (docs/protocol.md,
// "Scheduled changes"): until then the old state keeps playing, from then the new one. Keeping the
// changes as a list (not just the latest clock) is what lets a player prepare the new state
// while the old one still sounds, and switch exactly at the anchor.

/** Position of a room clock {position, anchor, playing, rate, duration} at server time t. */
export function positionAt(clock, t) {
  if (!clock) return 0;
  const rate = clock.rate ?? 1;
  const moving = clock.playing ? Math.max(0, t - clock.anchor) * rate : 0;
  const p = clock.position + moving;
  const end = clock.duration ?? Infinity;
  return Math.min(Math.max(p, 0), end);
}

/** True when audio should be sounding at server time t under this clock. */
export function soundingAt(clock, t) {
  if (!clock || !clock.playing || t < clock.anchor) return false;
  return clock.duration == null || positionAt(clock, t) < clock.duration;
}

/** Server time at which a playing clock reaches track position p (Infinity if never). */
export function timeOfPosition(clock, p) {
  if (!clock.playing) return Infinity;
  return clock.anchor + Math.max(0, p - clock.position) / (clock.rate ?? 1);
}

export class Timeline {
  constructor() {
    this.changes = []; // [{at, clock, entry, version}] sorted by at
    this.version = -Infinity;
  }

  /** Replace everything with a snapshot (RoomState): its clock holds from its anchor on. */
  load(state) {
    const entry = state.queue?.current ?? null;
    this.version = state.version ?? -Infinity;
    // A snapshot of what we already hold (a resync) keeps the change: nothing restarts.
    const same = this.changes.findIndex((c) => sameClock(c.clock, state.clock) && c.entry?.id === entry?.id);
    if (same >= 0) {
      this.changes = this.changes.slice(0, same + 1);
      this.changes[same] = { ...this.changes[same], entry };
      return;
    }
    this.changes = [change(-Infinity, state.clock, entry, state.version)];
  }

  /** A `playback` event. Returns false when it is older than what we hold. */
  apply(event) {
    if (event.version != null && event.version <= this.version) return false;
    this.version = event.version ?? this.version;
    const at = event.at ?? event.clock?.anchor ?? -Infinity;
    // A change replaces whatever was scheduled at or after its own effect time.
    this.changes = this.changes.filter((c) => c.at < at);
    this.changes.push(change(at, event.clock, event.entry ?? null, event.version));
    return true;
  }

  /** The change in force at server time t (the first one if none has taken effect yet). */
  phaseAt(t) {
    let phase = null;
    for (const c of this.changes) {
      if (c.at <= t) phase = c;
      else break;
    }
    if (phase) return phase;
    const first = this.changes[0] ?? null;
    // Before the first known change nothing we know of plays (a snapshot's future start).
    return first && { ...first, pending: true };
  }

  /** What plays at server time t: {entry, position, sounding, phase}. */
  stateAt(t) {
    const phase = this.phaseAt(t);
    if (!phase) return { entry: null, position: null, sounding: false, phase: null };
    const position = positionAt(phase.clock, t);
    const sounding = !phase.pending && !!phase.entry && soundingAt(phase.clock, t);
    return { entry: phase.entry, position, sounding, phase };
  }

  /** Changes that take effect after server time t, in order. */
  upcoming(t) {
    return this.changes.filter((c) => c.at > t);
  }

  /** The change following `phase` (its end), or null. */
  after(phase) {
    const i = this.changes.findIndex((c) => c.id === phase.id);
    return i >= 0 ? (this.changes[i + 1] ?? null) : null;
  }

  /** Forget changes that stopped mattering before server time t. */
  prune(t) {
    let keepFrom = 0;
    for (let i = 0; i < this.changes.length; i++) if (this.changes[i].at <= t) keepFrom = i;
    if (keepFrom > 0) this.changes = this.changes.slice(keepFrom);
  }
}

function sameClock(a, b) {
  if (!a || !b) return false;
  return (
    a.position === b.position && a.anchor === b.anchor && a.playing === b.playing && (a.rate ?? 1) === (b.rate ?? 1)
  );
}

let nextId = 1;
function change(at, clock, entry, version) {
  return { id: nextId++, at, clock, entry, version };
}
