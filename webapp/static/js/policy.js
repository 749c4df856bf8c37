// The room's policy in plain words: the summary everyone sees and the notice of a change.
// No DOM here, so room.js (and node --test) can use it.

/** "Only the host and DJs control playback. Listeners may still add tracks. …" */
export function policySummary(policy) {
  if (!policy) return "";
  const lines = [];
  if (policy.control === "djs") {
    lines.push("Only the host and DJs control playback.");
    lines.push(policy.listeners_can_queue ? "Listeners may still add tracks." : "Only the host and DJs add tracks.");
  } else {
    lines.push("Everyone controls playback.");
  }
  lines.push(policy.autoplay ? "Playback starts when a track is queued." : "Queued tracks wait for Play.");
  lines.push(`Queue limit: ${policy.max_queue} tracks.`);
  return lines.join(" ");
}

/** "Ana made playback host and DJs only", or null when nothing a listener notices changed. */
export function policyChange(who, before, after) {
  if (!after) return null;
  const old = before || {};
  const parts = [];
  if (after.control !== old.control) {
    parts.push(after.control === "djs" ? "made playback host and DJs only" : "let everyone control playback");
  }
  if (after.listeners_can_queue !== old.listeners_can_queue) {
    parts.push(after.listeners_can_queue ? "let listeners add tracks" : "stopped listeners adding tracks");
  }
  if (after.autoplay !== old.autoplay) {
    parts.push(after.autoplay ? "made queued tracks start playing" : "made queued tracks wait for Play");
  }
  if (after.max_queue !== old.max_queue) parts.push(`set the queue limit to ${after.max_queue}`);
  return parts.length ? `${who} ${parts.join(", ")}` : null;
}
