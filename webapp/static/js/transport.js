// Now playing and the transport: play/pause, previous/skip, the seek bar (with buffered ranges
// and times; seeks debounced while dragging), and the local volume and mute (remembered).
import { $ } from "./dom.js";
import { clock, spokenClock } from "./format.js";
import * as store from "./store.js";

const SEEK_DEBOUNCE_MS = 250;
const KEY_SEEK_DEBOUNCE_MS = 300;

export function setupTransport({ player, act, getState }) {
  const el = {
    main: $("main"),
    play: $("play"),
    previous: $("previous"),
    skip: $("skip"),
    seek: $("seek"),
    buffered: $("buffered"),
    now: $("time-now"),
    total: $("time-total"),
    mute: $("mute"),
    volume: $("volume"),
    title: $("now-title"),
    artist: $("now-artist"),
    state: $("now-state"),
    cover: $("now-cover"),
    coverPlaceholder: $("now-cover-placeholder"),
    sync: $("sync-state"),
  };

  // -- commands ----------------------------------------------------------------------------
  const status = () => getState()?.status ?? "idle";
  const play = () => act("Could not play", "control", { action: "play" });
  const pause = () => act("Could not pause", "control", { action: "pause" });
  const toggle = () => (status() === "playing" ? pause() : play());
  const skip = () => act("Could not skip", "control", { action: "skip" });
  const previous = () => act("Could not go back", "control", { action: "previous" });

  el.play.addEventListener("click", toggle);
  el.skip.addEventListener("click", skip);
  el.previous.addEventListener("click", previous);

  // Dragging sends one seek when the thumb rests (or is let go), not one per pixel.
  let dragging = false;
  let seekTimer = null;
  const sendSeek = () => {
    clearTimeout(seekTimer);
    seekTimer = null;
    dragging = false;
    act("Could not seek", "control", { action: "seek", position: Number(el.seek.value) });
  };
  el.seek.addEventListener("input", () => {
    dragging = true;
    showTime(Number(el.seek.value));
    clearTimeout(seekTimer);
    seekTimer = setTimeout(sendSeek, SEEK_DEBOUNCE_MS);
  });
  el.seek.addEventListener("change", sendSeek);

  // Arrow keys add up: three quick presses of → are one seek of +15 s.
  let keySeek = 0;
  let keyTimer = null;
  const seekBy = (seconds) => {
    if (!getState()?.queue.current) return;
    keySeek += seconds;
    const base = player.position() ?? 0;
    showTime(Math.max(0, base + keySeek));
    clearTimeout(keyTimer);
    keyTimer = setTimeout(() => {
      const by = keySeek;
      keySeek = 0;
      act("Could not seek", "control", { action: "seek", position: by, relative: true });
    }, KEY_SEEK_DEBOUNCE_MS);
  };

  // -- volume ------------------------------------------------------------------------------
  let volume = clamp01(Number(store.get("volume", "0.8")));
  let muted = store.get("muted") === "true";
  const applyVolume = () => {
    player.setVolume(volume);
    player.setMuted(muted);
    el.volume.value = String(Math.round(volume * 100));
    el.volume.setAttribute("aria-valuetext", `${Math.round(volume * 100)} %${muted ? ", muted" : ""}`);
    el.mute.setAttribute("aria-label", muted ? "Unmute" : "Mute");
    el.mute.title = muted ? "Unmute (M)" : "Mute (M)";
    el.mute.dataset.muted = String(muted);
    el.volume.style.setProperty("--fill", `${Math.round(volume * 100)}%`);
    store.set("volume", volume.toFixed(2));
    store.set("muted", String(muted));
  };
  const setVolume = (v) => {
    volume = clamp01(v);
    if (volume > 0 && muted) muted = false;
    applyVolume();
  };
  el.volume.addEventListener("input", () => setVolume(Number(el.volume.value) / 100));
  el.mute.addEventListener("click", () => {
    muted = !muted;
    applyVolume();
  });
  applyVolume();

  // -- showing -----------------------------------------------------------------------------
  function showTime(position) {
    el.now.textContent = clock(position);
    const duration = Number(el.seek.max) || 0;
    el.seek.setAttribute("aria-valuetext", `${spokenClock(position)} of ${spokenClock(duration)}`);
    el.seek.style.setProperty("--fill", duration ? `${(100 * Math.min(position, duration)) / duration}%` : "0%");
  }

  let shownEntry = undefined;
  function render(state) {
    const entry = state?.queue.current ?? null;
    const st = state?.status ?? "idle";
    el.main.dataset.status = st;
    const playing = st === "playing";
    el.play.setAttribute("aria-label", playing ? "Pause" : "Play");
    el.play.title = playing ? "Pause (Space)" : "Play (Space)";
    el.play.dataset.playing = String(playing);
    const canPlay = Boolean(entry || state?.queue.upcoming.length);
    el.play.disabled = !canPlay && !playing;
    el.skip.disabled = !entry;
    el.previous.disabled = !entry && !(state?.queue.history.length);
    el.state.textContent = !entry || st === "idle" ? (entry ? "Stopped" : "Nothing playing") : playing ? "Now playing" : "Paused";
    if (entry?.id !== shownEntry?.id || entry?.cover_url !== shownEntry?.cover_url) {
      shownEntry = entry;
      el.title.textContent = entry ? entry.title : "Add a track from the library";
      el.artist.textContent = entry ? entry.artist || "Unknown artist" : "";
      if (entry) {
        el.cover.src = entry.cover_url;
        el.cover.alt = `Cover of ${entry.title}`;
      }
      el.cover.hidden = !entry;
      el.coverPlaceholder.hidden = Boolean(entry);
    }
    const duration = entry ? entry.duration : 0;
    el.seek.max = String(duration || 0);
    el.seek.disabled = !entry;
    el.total.textContent = clock(duration);
    tick();
  }

  function tick() {
    const state = getState();
    if (!dragging && keySeek === 0) {
      const pos = state?.queue.current ? player.position() ?? state.position ?? 0 : 0;
      el.seek.value = String(pos);
      showTime(pos);
    }
    drawBuffered();
  }

  function drawBuffered() {
    const duration = Number(el.seek.max) || 0;
    const ranges = duration ? player.buffered() || [] : [];
    const bars = el.buffered.children;
    while (bars.length > ranges.length) bars[bars.length - 1].remove();
    while (bars.length < ranges.length) el.buffered.append(document.createElement("span"));
    ranges.forEach(([start, end], i) => {
      bars[i].style.left = `${(100 * start) / duration}%`;
      bars[i].style.width = `${(100 * Math.max(0, end - start)) / duration}%`;
    });
  }

  function showSync(s, state, locked = false) {
    let text = "";
    if (state?.queue.current && state.status === "playing") {
      if (locked) text = "The room is playing: click “Click to listen” to hear it.";
      else if (s.error && !/NotAllowed/i.test(String(s.error))) text = `Playback problem: ${s.error}`;
      else if (s.loading) text = "Loading the track…";
      else if (s.buffering) text = "Buffering — catching up with the room…";
      else if (s.playing) text = "In sync";
    } else if (s.loading && state?.queue.current) {
      text = "Loading the track…";
    }
    el.sync.textContent = text;
    el.sync.dataset.state = locked ? "locked" : s.buffering ? "buffering" : s.loading ? "loading" : s.playing ? "playing" : "idle";
  }

  setInterval(tick, 250);
  const seekTo = (position) => act("Could not seek", "control", { action: "seek", position });
  return { render, tick, showSync, toggle, play, pause, skip, previous, seekBy, seekTo, volumeBy: (d) => setVolume(volume + d), toggleMute: () => el.mute.click() };
}

function clamp01(x) {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0.8;
}
