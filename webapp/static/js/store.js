// Remembered settings in localStorage (and the per-tab session in sessionStorage). Storage can be
// missing or full (private windows, quotas): every access is allowed to fail quietly.

const PREFIX = "lockstep.";

function area(kind) {
  try {
    return kind === "session" ? window.sessionStorage : window.localStorage;
  } catch {
    return null;
  }
}

export function get(key, fallback = null, kind = "local") {
  try {
    const value = area(kind)?.getItem(PREFIX + key);
    return value === null || value === undefined ? fallback : value;
  } catch {
    return fallback;
  }
}

export function set(key, value, kind = "local") {
  try {
    if (value === null || value === undefined) area(kind)?.removeItem(PREFIX + key);
    else area(kind)?.setItem(PREFIX + key, String(value));
  } catch {
    /* storage full or blocked: the setting lasts for this page only */
  }
}

export function localArea() {
  return area("local");
}
