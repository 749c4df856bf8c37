// The Media Session API: what plays on the lock screen and in the system's media controls, and
// the play/pause/next/previous (and seek) keys and buttons there.

const supported = "mediaSession" in navigator;

export function setupMediaSession(actions) {
  if (!supported) return;
  const handlers = {
    play: actions.play,
    pause: actions.pause,
    nexttrack: actions.skip,
    previoustrack: actions.previous,
    seekto: (details) => Number.isFinite(details?.seekTime) && actions.seekTo(details.seekTime),
    seekbackward: (details) => actions.seekBy(-(details?.seekOffset || 10)),
    seekforward: (details) => actions.seekBy(details?.seekOffset || 10),
  };
  for (const [name, fn] of Object.entries(handlers)) {
    try {
      navigator.mediaSession.setActionHandler(name, (details) => fn(details));
    } catch {
      /* this browser does not know that action */
    }
  }
}

let shown = null;

export function showInMediaSession(entry, status, position = null) {
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
  // Where the track is, so the lock screen's progress bar moves on by itself.
  try {
    if (entry && entry.duration > 0 && Number.isFinite(position)) {
      navigator.mediaSession.setPositionState({
        duration: entry.duration,
        position: Math.min(entry.duration, Math.max(0, position)),
        playbackRate: 1,
      });
    } else {
      navigator.mediaSession.setPositionState();
    }
  } catch {
    /* not supported here */
  }
}
