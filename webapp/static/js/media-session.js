// The Media Session API: what plays on the lock screen and in the system's media controls, and
// the play/pause/next/previous keys and buttons there.

const supported = "mediaSession" in navigator;

export function setupMediaSession(actions) {
  if (!supported) return;
  const handlers = {
    play: actions.play,
    pause: actions.pause,
    nexttrack: actions.skip,
    previoustrack: actions.previous,
  };
  for (const [name, fn] of Object.entries(handlers)) {
    try {
      navigator.mediaSession.setActionHandler(name, () => fn());
    } catch {
      /* this browser does not know that action */
    }
  }
}

let shown = null;

export function showInMediaSession(entry, status) {
  if (!supported) return;
  const id = entry ? entry.id : null;
  if (id !== shown) {
    shown = id;
    navigator.mediaSession.metadata = entry
      ? new MediaMetadata({
          title: entry.title,
          artist: entry.artist || "",
          album: "Lockstep",
          artwork: [{ src: new URL(entry.cover_url, location.href).href, sizes: "512x512" }],
        })
      : null;
  }
  navigator.mediaSession.playbackState =
    status === "playing" ? "playing" : status === "paused" ? "paused" : "none";
}
